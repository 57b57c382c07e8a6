"""The deployable artifact: what `sam build` produces imports and answers as Lambda runs it, from its own bytecode.

Lambda runs a function from /var/task with its layers merged at /opt/python and the runtime's own boto3, on a
read-only file system, with Python 3.13. Each handler is started here by that Python with exactly those folders on
its path (no site-packages), from a read-only copy of the build (bench/deployed_artifact.py) with
PYTHONDONTWRITEBYTECODE=1, so a package missing from a layer's requirements, a layer laid out where Lambda does not
look, or a module shipped without valid bytecode fails this test rather than a deploy or every cold start. The layers
are built for arm64; their compiled extension modules are swapped, in the copy, for this machine's build of the very
same version, so the pure-Python code and the bytecode that run are the ones built.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.deployed_artifact import ISOLATED, Deployed, deploy, elf_machine, files, make_writable, probe, runtime_python, sam_build

HEAVY = ("pydantic", "zenpy", "simple_salesforce", "tweepy", "requests")
AARCH64 = 183
FUNCTIONS = ("IngestFunction", "ProcessFunction", "OutboundFunction", "DeskEventsFunction", "SlaCheckFunction")
# The first request each handler's probe makes (bench/artifact_probe.py): a platform's webhook, the batch's use case
# built, a signed Zendesk webhook delivery, or one scheduled SLA run over an empty due index.
FIRST_REQUEST = {
    "IngestFunction": "ingest",
    "ProcessFunction": "process",
    "OutboundFunction": "outbound",
    "DeskEventsFunction": "desk_events",
    "SlaCheckFunction": "sla_check",
}
# Loaded from the function's own folders by the import (a floor, so the probe really ran the artifact), as measured
# by bench/cold_start_bench.py: desk_events has the CRM layer on its path but imports neither SDK (195 modules);
# outbound (365) and sla_check (306) import zenpy but not simple-salesforce, whose ~160 modules only process loads
# (over 500 with both).
MODULES_FROM_ARTIFACT_AT_LEAST = {
    "IngestFunction": 80,
    "ProcessFunction": 400,
    "OutboundFunction": 320,
    "DeskEventsFunction": 150,
    "SlaCheckFunction": 260,
}


def _require(tool: str) -> str:
    found = shutil.which(tool)
    # A pyenv shim can sit on PATH without its version installed: only a tool that runs counts.
    if found and subprocess.run([found, "--version"], capture_output=True, check=False).returncode == 0:
        return found
    if os.environ.get("SOCIALDESK_REQUIRE_SAM") == "1":
        pytest.fail(f"{tool} is not on PATH; .ci/run installs it")
    pytest.skip(f"{tool} is not on PATH (run .ci/run, or see README: Running the tests)")


@pytest.fixture(scope="module")
def python313() -> str:
    _require("python3.13")  # sam build and the runtime's bytecode need the function runtime's Python
    found = runtime_python()
    assert found is not None, "python3.13 on PATH is not Python 3.13"
    return found


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory, python313: str) -> Path:
    target = tmp_path_factory.mktemp("sam-build")
    sam_build(target, _require("sam"))
    return target


@pytest.fixture(scope="module")
def deployed(build_dir: Path, python313: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    folder = tmp_path_factory.mktemp("deployed")
    copy = deploy(build_dir, folder / "opt", python313)
    yield copy
    make_writable(folder)


def _run(deployed: Deployed, function: str, probe_code: str) -> Any:
    """Run `probe_code` in the runtime's Python with only the function's folders and the runtime SDK on its path."""
    code = f"import json, sys\nsys.path[:0] = {deployed.path(function)!r}\n{probe_code}"
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "eu-west-1"}
    environment |= {
        "POWERTOOLS_SERVICE_NAME": "socialdesk",
        "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
        "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantine",
        "SOCIALDESK_WEBHOOK_SECRET_ID": "socialdesk-webhooks",
        "SOCIALDESK_MAX_BODY_BYTES": "1024",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    }
    result = subprocess.run(
        [deployed.python, *ISOLATED, "-c", code], capture_output=True, text=True, env=environment, cwd=deployed.root, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_layers_hold_their_packages_where_lambda_imports_them(build_dir: Path) -> None:
    core, crm = build_dir / "CoreLayer" / "python", build_dir / "CrmLayer" / "python"
    assert (core / "socialdesk" / "__init__.py").is_file()
    assert (crm / "zenpy").is_dir()
    assert (crm / "simple_salesforce").is_dir()
    for layer in (core, crm):
        assert not (layer / "python").exists(), "a nested python/ folder puts packages at /opt/python/python"
        compiled = list(layer.rglob("*.so"))
        assert compiled
        assert [path.name for path in compiled if elf_machine(path) != AARCH64] == [], "every compiled module must be built for arm64"
        assert [path.name for path in compiled if "cpython-" in path.name and "cpython-313" not in path.name] == []
    for heavy in HEAVY:
        assert not (core / heavy).exists(), f"{heavy} does not belong in the ingest layer"


# Checked by the runtime's Python: its magic number, and PEP 552's header (flags 0b01: hash-based, source not checked).
CHECK_BYTECODE = """
import importlib.util, json, sys
from pathlib import Path
checked, problems = 0, []
for folder in map(Path, sys.argv[1:]):
    for source in sorted(folder.rglob("*.py")):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            problems.append(f"{source}: no {cached.name}")
            continue
        header = cached.read_bytes()[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            problems.append(f"{source}: compiled by another Python")
        elif int.from_bytes(header[4:8], "little") != 0b01:
            problems.append(f"{source}: not an unchecked-hash pyc (flags {header[4:8].hex()})")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(f"{source}: compiled from another version of the source")
        checked += 1
print(json.dumps({"checked": checked, "problems": problems[:20]}))
"""


def test_every_built_module_ships_bytecode_compiled_from_its_own_source(build_dir: Path, python313: str) -> None:
    # Unchecked-hash pycs are trusted without looking at the source, so each must be proven to match the source beside it.
    folders = [build_dir / name for name in FUNCTIONS] + [build_dir / name / "python" for name in ("CoreLayer", "CrmLayer")]
    result = subprocess.run([python313, *ISOLATED, "-c", CHECK_BYTECODE, *map(str, folders)], capture_output=True, text=True, check=True)
    outcome = json.loads(result.stdout)
    assert outcome["problems"] == []
    assert outcome["checked"] > 900  # both handlers, socialdesk, Powertools, the CRM libraries (970 in all)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_built_handler_imports_from_the_read_only_layers_without_compiling_any_source(deployed: Deployed, function: str) -> None:
    # Given the deployed copy, read-only, and the runtime's Python told not to write bytecode
    before = files(deployed.root)
    # When the handler is imported as Lambda's INIT imports it, and makes its first request
    outcome = probe(deployed, function, lambda_init=True, request=FIRST_REQUEST[function])
    # Then every module of the function and its layers came from its shipped pyc: no source was compiled, none written
    assert outcome["dont_write_bytecode"] == 1
    assert outcome["compiled_during_import"] == []
    assert outcome["compiled_during_first_request"] == []
    assert outcome["without_bytecode"] == []
    assert outcome["modules_from_artifact"] > MODULES_FROM_ARTIFACT_AT_LEAST[function]
    assert files(deployed.root) == before


@pytest.mark.parametrize(
    ("function", "built_by_request", "built_at_init"),
    [
        ("IngestFunction", ["secretsmanager", "sqs"], ["secretsmanager", "sqs"]),
        ("ProcessFunction", ["secretsmanager"], ["dynamodb", "secretsmanager"]),
        ("OutboundFunction", ["secretsmanager"], ["dynamodb", "secretsmanager"]),
        ("DeskEventsFunction", ["dynamodb", "secretsmanager"], ["dynamodb", "secretsmanager", "sqs"]),
        ("SlaCheckFunction", ["dynamodb", "secretsmanager"], ["dynamodb", "secretsmanager"]),
    ],
)
def test_built_handler_builds_what_every_request_needs_during_lambda_init_only(
    deployed: Deployed, function: str, built_by_request: list[str], built_at_init: list[str]
) -> None:
    # Imported where Lambda's variables are unset (tests, the local runner): nothing is built at import
    request_kind = FIRST_REQUEST[function]
    plain = probe(deployed, function, request=request_kind)
    assert plain["clients_built_at_import"] == []
    assert sorted(plain["clients_built_by_first_request"]) == built_by_request
    # Imported as Lambda's INIT imports it: the clients every request needs are built there, and the first request
    # (AWS answered in memory) builds no client and imports no module
    started = probe(deployed, function, lambda_init=True, request=request_kind)
    assert sorted(started["clients_built_at_import"]) == built_at_init
    assert started["first_request_status"] == 200
    assert started["clients_built_by_first_request"] == []
    assert started["imported_by_first_request"] == []


# The SDKs a function never calls: the CRM layer on its path holds both, but outbound and sla_check write only to
# Zendesk (composition/desk.py builds their helpdesk without importing the Salesforce adapter) and desk_events queues
# agents' replies for outbound, which writes the notes.
SDKS_NOT_LOADED = {
    "OutboundFunction": ("simple_salesforce",),
    "SlaCheckFunction": ("simple_salesforce",),
    "DeskEventsFunction": ("zenpy", "simple_salesforce"),
}


@pytest.mark.parametrize("function", sorted(SDKS_NOT_LOADED))
def test_built_handler_loads_no_sdk_its_function_never_calls(deployed: Deployed, function: str) -> None:
    """Given the deployed function, with the CRM layer (zenpy and simple-salesforce) on its path
    When Lambda's INIT imports it and it makes its first request (a batch's use case built, a signed Zendesk delivery,
    a scheduled run)
    Then the request succeeded and no module of an SDK the function never calls was imported, at INIT or by then."""
    outcome = probe(deployed, function, lambda_init=True, request=FIRST_REQUEST[function])
    assert outcome["first_request_status"] == 200
    assert [name for name in outcome["heavy_after_first_request"] if name.split(".")[0] in SDKS_NOT_LOADED[function]] == []


def test_built_ingest_handler_runs_with_only_its_layer_and_the_runtime_sdk(deployed: Deployed) -> None:
    probe_code = (
        "import app\n"
        "class Context:\n"
        "    function_name, memory_limit_in_mb, aws_request_id = 'ingest', 512, 'r-1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-west-1:123456789012:function:ingest'\n"
        "def call(method, path, body=''):\n"
        "    event = {'rawPath': path, 'rawQueryString': '', 'headers': {}, 'body': body, 'isBase64Encoded': False,\n"
        "             'requestContext': {'http': {'method': method, 'path': path}, 'requestId': 'r-1'}}\n"
        "    return app.lambda_handler(event, Context())['statusCode']\n"
        "statuses = [call('GET', '/nowhere'), call('PUT', '/webhooks/meta'), call('POST', '/webhooks/x', 'x' * 2048)]\n"
        f"print(json.dumps({{'statuses': statuses, 'heavy': sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})}}))\n"
    )
    # Routing and size checks touch no AWS service; nothing heavy is imported on the way.
    assert _run(deployed, "IngestFunction", probe_code) == {"statuses": [404, 405, 413], "heavy": []}


def test_built_process_handler_loads_its_clients_and_the_deployed_rules_file(deployed: Deployed) -> None:
    # The config layer is plain files: what Lambda will find at /opt/socialdesk.toml is in its folder.
    rules_file = deployed.rules_file()
    assert rules_file.is_file()
    probe_code = (
        "import app\n"
        "from pathlib import Path\n"
        "from socialdesk.rules import load_rules\n"
        f"rules = load_rules(Path({str(rules_file)!r}))\n"
        "print(json.dumps({'zenpy': 'zenpy' in sys.modules, 'simple_salesforce': 'simple_salesforce' in sys.modules,\n"
        "                  'handler': callable(app.lambda_handler), 'subdomain': rules.zendesk.subdomain}))\n"
    )
    outcome = _run(deployed, "ProcessFunction", probe_code)
    assert outcome == {"zenpy": True, "simple_salesforce": True, "handler": True, "subdomain": "your-subdomain"}
