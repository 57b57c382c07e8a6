"""Lambda INIT builds what every request needs, and importing a handler anywhere else builds nothing.

In a fresh interpreter (an earlier test's imports would hide a lazy one): the handlers are imported as the tests and
the local runner import them, then the whole pipeline runs on moto and the Zendesk and Salesforce HTTP fakes
(tests/support/process_stack.py) after the `init()` that each handler runs in Lambda. The first webhook and the first
batch, through zenpy and simple-salesforce with a JWT login, must then import no module and build no client: what the
function needs was paid for during INIT. tests/e2e/test_sam_artifact.py checks the same on the built artifact.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from socialdesk import composition
from socialdesk.composition import clients, ingest
from socialdesk.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, tempfile
from pathlib import Path
from socialdesk.composition import clients
import functions.ingest.app, functions.process.app
CLIENTS = ("sqs", "secretsmanager", "s3", "dynamodb")
def built():
    return {name for name in CLIENTS if getattr(clients, name).cache_info().currsize}
at_import = sorted(built())
from socialdesk.composition import ingest, process
from tests.support.process_stack import RULES, private_key_pem, process_stack
from tests.support.webhooks import sample
rules = Path(tempfile.mkdtemp()) / "socialdesk.toml"
rules.write_text(RULES)
with process_stack(rules, private_key_pem()) as flow:
    ingest.init()
    process.init()
    at_init = sorted(built())
    modules, before = set(sys.modules), built()
    flow.webhook(sample("meta-whatsapp-text"))
    webhook = {"imported": sorted(set(sys.modules) - modules), "built": sorted(built() - before)}
    modules, before = set(sys.modules), built()
    answer = flow.process_once()
    batch = {"imported": sorted(set(sys.modules) - modules), "built": sorted(built() - before)}
    tickets, tasks = len(flow.zendesk.tickets), len(flow.salesforce.tasks)
print(json.dumps({"at_import": at_import, "at_init": at_init, "webhook": webhook, "batch": batch, "answer": answer,
                  "tickets": tickets, "tasks": tasks}))
"""


def test_first_webhook_and_first_batch_after_init_import_nothing_and_build_nothing() -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, env=environment, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # Importing the handlers outside Lambda builds no client (tests, the local runner)
    assert outcome["at_import"] == []
    # init() builds the Secrets Manager, SQS and DynamoDB clients (S3 stays for an oversize item)
    assert outcome["at_init"] == ["dynamodb", "secretsmanager", "sqs"]
    # The first webhook and the first batch did their work...
    assert outcome["answer"] == {"batchItemFailures": []}
    assert (outcome["tickets"], outcome["tasks"]) == (1, 1)
    # ...without importing a module or building a client
    assert outcome["webhook"] == {"imported": [], "built": []}
    assert outcome["batch"] == {"imported": [], "built": []}


def test_an_init_that_cannot_build_leaves_the_error_to_the_first_request(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # Given a function whose settings are missing (a broken deployment), with credentials and a region as Lambda gives
    for name in [name for name in os.environ if name.startswith("SOCIALDESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    composition.reset()
    try:
        # When INIT runs, it does not fail the container: it logs what it could not build and builds the rest
        with caplog.at_level(logging.WARNING):
            ingest.init()
        assert "could not build webhook_ingest during INIT" in caplog.text
        built = [cast("Any", builder).cache_info().currsize for builder in (clients.secretsmanager, clients.sqs)]
        assert built == [1, 1]
        # Then the first request meets the same error it always met, where the handler reports it
        with pytest.raises(ConfigError):
            ingest.webhook_ingest()
    finally:
        composition.reset()
