"""The deployable artifact: what `sam build` produces imports and answers in a Lambda-like layout.

Lambda runs a function from /var/task with its layers merged at /opt/python and the
runtime's own boto3. Each handler is started here with exactly those on its path (no
site-packages), so a package missing from a layer's requirements, or a layer laid out
where Lambda does not look, fails this test rather than a deploy. The layers are built for
arm64; their compiled modules are swapped for this machine's build of the very same
version so the pure-Python code can run here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda Python runtime ships besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
HEAVY = ("pydantic", "zenpy", "simple_salesforce", "tweepy", "requests")
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "socialdesk",
    "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
    "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
    "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantine",
    "SOCIALDESK_WEBHOOK_SECRET_ID": "socialdesk-webhooks",
    "SOCIALDESK_MAX_BODY_BYTES": "1024",
    "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
}


AARCH64 = 183  # ELF e_machine for AArch64


def _elf_machine(path: Path) -> int:
    """The architecture a shared object was compiled for, from its ELF header (names like `*.abi3.so` do not say)."""
    header = path.read_bytes()[:20]
    return int.from_bytes(header[18:20], "little")


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
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(scope="module")
def runtime_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_SDK:
        _copy_distribution(name, folder)
    return folder


def _copy_distribution(name: str, destination: Path) -> None:
    """Copy an installed distribution's top-level packages and modules from this environment into `destination`."""
    distribution = importlib.metadata.distribution(name)
    top_levels = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith(("..", "__pycache__"))}
    for top in top_levels:
        source = Path(str(distribution.locate_file(top)))
        if source.is_dir():
            shutil.copytree(source, destination / top, dirs_exist_ok=True)
        elif source.suffix in (".py", ".so"):
            shutil.copy2(source, destination / top)


def _native_builds(layer: Path, destination: Path) -> None:
    """This machine's build of every distribution in `layer` that ships compiled modules (per its RECORD)."""
    for record in layer.glob("*.dist-info/RECORD"):
        if not any(line.split(",")[0].endswith(".so") for line in record.read_text().splitlines()):
            continue
        name, _, version = record.parent.name.removesuffix(".dist-info").partition("-")
        installed = importlib.metadata.version(name)
        assert installed == version, f"this environment has {name} {installed}, the layer {version}"
        _copy_distribution(name, destination)


def _built_layers(build_dir: Path, function: str) -> list[Path]:
    """The python/ folders of the function's built layers, in the order Lambda merges them."""
    template = yaml.safe_load((build_dir / "template.yaml").read_text().replace("!Ref ", "Ref::").replace("!", ""))
    resources = template["Resources"]
    layers = [*template.get("Globals", {}).get("Function", {}).get("Layers", []), *resources[function]["Properties"].get("Layers", [])]
    names = [layer["Ref"] if isinstance(layer, dict) else str(layer).removeprefix("Ref::") for layer in layers]
    return [build_dir / name / "python" for name in names if (build_dir / name / "python").is_dir()]


def _run(build_dir: Path, function: str, runtime: Path, tmp_path: Path, probe: str) -> Any:
    layers = _built_layers(build_dir, function)
    native = tmp_path / "native"
    native.mkdir()
    for layer in layers:
        _native_builds(layer, native)
    path = [str(build_dir / function), str(native), *[str(layer) for layer in reversed(layers)], str(runtime)]
    code = f"import json, sys\nsys.path[:0] = {path!r}\n{probe}"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **ENVIRONMENT},
        check=False,
        timeout=120,
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
        assert [path.name for path in compiled if _elf_machine(path) != AARCH64] == [], "every compiled module must be built for arm64"
        assert [path.name for path in compiled if "cpython-" in path.name and "cpython-313" not in path.name] == []
    for heavy in HEAVY:
        assert not (core / heavy).exists(), f"{heavy} does not belong in the ingest layer"


def test_built_ingest_handler_runs_with_only_its_layer_and_the_runtime_sdk(build_dir: Path, runtime_sdk: Path, tmp_path: Path) -> None:
    probe = (
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
    assert _run(build_dir, "IngestFunction", runtime_sdk, tmp_path, probe) == {"statuses": [404, 405, 413], "heavy": []}


def test_built_process_handler_loads_its_clients_and_the_deployed_rules_file(build_dir: Path, runtime_sdk: Path, tmp_path: Path) -> None:
    # The config layer is plain files: what Lambda will find at /opt/socialdesk.toml is in its folder.
    template = (build_dir / "template.yaml").read_text()
    config_folder = (build_dir / template.split("ConfigLayer:")[1].split("ContentUri:")[1].split()[0]).resolve()
    rules_file = config_folder / "socialdesk.toml"
    assert rules_file.is_file()
    probe = (
        "import app\n"
        "from pathlib import Path\n"
        "from socialdesk.rules import load_rules\n"
        f"rules = load_rules(Path({str(rules_file)!r}))\n"
        "print(json.dumps({'zenpy': 'zenpy' in sys.modules, 'simple_salesforce': 'simple_salesforce' in sys.modules,\n"
        "                  'handler': callable(app.lambda_handler), 'subdomain': rules.zendesk.subdomain}))\n"
    )
    outcome = _run(build_dir, "ProcessFunction", runtime_sdk, tmp_path, probe)
    assert outcome == {"zenpy": True, "simple_salesforce": True, "handler": True, "subdomain": "your-subdomain"}
