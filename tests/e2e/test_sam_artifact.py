"""The deployable artifact: what `sam build` produces imports and answers in a Lambda-like layout.

Lambda runs the function from /var/task with the layer at /opt/python and the
runtime's own boto3. The handler is started here with exactly those three on its
path (no site-packages), so a package missing from the layer's requirements, or
the layer laid out where Lambda does not look, fails this test rather than a deploy.
The layer is built for arm64; its compiled modules are swapped for this machine's
build of the very same version so the pure-Python code can run here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda Python runtime ships besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
HEAVY = ("pydantic", "zenpy", "simple_salesforce", "tweepy", "requests")


def _require(tool: str) -> str:
    found = shutil.which(tool)
    # A pyenv shim can sit on PATH without its version installed: only a tool that runs counts.
    if found and subprocess.run([found, "--version"], capture_output=True, check=False).returncode == 0:
        return found
    if os.environ.get("SOCIALDESK_REQUIRE_SAM") == "1":
        pytest.fail(f"{tool} is not on PATH; .ci/run installs it")
    pytest.skip(f"{tool} is not on PATH (run .ci/run, or see README: Running the tests)")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam = _require("sam")
    _require("python3.13")  # sam build needs the function runtime's Python
    target = tmp_path_factory.mktemp("sam-build")
    result = subprocess.run(
        [sam, "build", "--template-file", str(ROOT / "infra" / "template.yaml"), "--build-dir", str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _copy_distribution(name: str, destination: Path) -> None:
    """Copy an installed distribution's top-level packages from this environment into `destination`."""
    distribution = importlib.metadata.distribution(name)
    top_levels = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith(("..", "__pycache__"))}
    for top in top_levels:
        source = Path(str(distribution.locate_file(top)))
        if source.is_dir():
            shutil.copytree(source, destination / top, dirs_exist_ok=True)
        elif source.suffix == ".py":
            shutil.copy2(source, destination / top)


def test_layer_holds_the_package_where_lambda_imports_it(build_dir: Path) -> None:
    layer = build_dir / "CoreLayer" / "python"
    assert (layer / "socialdesk" / "__init__.py").is_file()
    assert not (layer / "python").exists(), "a nested python/ folder puts the package at /opt/python/python"
    compiled = list(layer.rglob("*.so"))
    assert compiled, "expected msgspec's compiled core in the layer"
    assert all("cpython-313-aarch64" in path.name for path in compiled), [path.name for path in compiled]
    for heavy in HEAVY:
        assert not (layer / heavy).exists(), f"{heavy} does not belong in the ingest layer"


def test_built_handler_runs_with_only_the_layer_and_the_runtime_sdk(build_dir: Path, tmp_path: Path) -> None:
    # Given the built function and layer, this machine's build of the layer's compiled packages, and the runtime SDK
    task, layer = build_dir / "IngestFunction", build_dir / "CoreLayer" / "python"
    native, runtime = tmp_path / "native", tmp_path / "runtime"
    native.mkdir()
    runtime.mkdir()
    for dist_info in layer.glob("*.dist-info"):
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        if any((layer / top).is_dir() and any((layer / top).rglob("*.so")) for top in (name, name.replace("-", "_"))):
            assert importlib.metadata.version(name) == version, f"this environment has {name} {importlib.metadata.version(name)}, the layer {version}"
            _copy_distribution(name, native)
    for name in RUNTIME_SDK:
        _copy_distribution(name, runtime)
    probe = (
        "import json, sys\n"
        f"sys.path[:0] = {[str(task), str(native), str(layer), str(runtime)]!r}\n"
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
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "socialdesk",
        "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
        "SOCIALDESK_WEBHOOK_SECRET_ID": "socialdesk-webhooks",
        "SOCIALDESK_MAX_BODY_BYTES": "1024",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    }
    # When the handler is imported and called with no site-packages at all (-S) and no inherited paths (-I)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, env=env, check=False, timeout=60)
    # Then it answers routing and size checks (none of which touch AWS) and imports nothing heavy
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"statuses": [404, 405, 413], "heavy": []}
