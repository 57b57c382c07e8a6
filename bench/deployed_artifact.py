"""The artifact `sam build` produces, laid out and run as Lambda runs it: shared by bench/ingest_bench.py and tests/e2e.

Lambda runs a function from /var/task with its layers merged at /opt/python and the runtime's own boto3, on a file
system that is read-only apart from /tmp, with the runtime's Python (3.13 here). `deploy()` copies the built folders
to one place, makes the copy read-only and swaps each compiled extension module (built for arm64) for this machine's
build of the very same version, so the pure-Python code and the bytecode that run are exactly the ones built.
`probe()` then starts the runtime's Python on that copy with PYTHONDONTWRITEBYTECODE=1 and no site-packages
(bench/artifact_probe.py says what it measures).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from socialdesk.devtools.zendesk_events import TEST_SIGNING_SECRET, apigw_event, comment_added, signed_request

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
PROBE = Path(__file__).resolve().parent / "artifact_probe.py"
RUNTIME = "python3.13"
# What the Lambda Python runtime ships besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# No site-packages, no user site, no script folder on sys.path; not -I, whose -E would drop PYTHONDONTWRITEBYTECODE
# (the environment is built from scratch instead, so no other PYTHON* variable reaches the probe).
ISOLATED = ("-S", "-s", "-P")
AARCH64, X86_64 = 183, 62  # ELF e_machine values
ELF = b"\x7fELF"
# The reserved variables Lambda sets that the code reads (the credentials are placeholders: nothing leaves the probe).
LAMBDA_ENVIRONMENT = {
    "AWS_LAMBDA_FUNCTION_NAME": "socialdesk-probe",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "ASIAPROBEPROBEPROBE00",
    "AWS_SECRET_ACCESS_KEY": "probe-secret-access-key",
    "AWS_SESSION_TOKEN": "probe-session-token",
}
FUNCTION_ENVIRONMENT = {
    "IngestFunction": {
        "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        "SOCIALDESK_QUARANTINE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/quarantine",
        "SOCIALDESK_QUARANTINE_BUCKET": "socialdesk-quarantine",
        "SOCIALDESK_WEBHOOK_SECRET_ID": "socialdesk-webhooks",
        "SOCIALDESK_MAX_BODY_BYTES": "1024",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
    },
    "ProcessFunction": {
        "SOCIALDESK_INBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        "SOCIALDESK_DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound-dlq",
        "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
        "SOCIALDESK_CRM_SECRET_ID": "socialdesk-crm",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
        "SOCIALDESK_OUTBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound",
        "SOCIALDESK_PLATFORM_SECRET_ID": "socialdesk-platforms",
    },
    "OutboundFunction": {
        "SOCIALDESK_OUTBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound",
        "SOCIALDESK_OUTBOUND_DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound-dlq",
        "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
        "SOCIALDESK_PLATFORM_SECRET_ID": "socialdesk-platforms",
        "SOCIALDESK_CRM_SECRET_ID": "socialdesk-crm",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
        "SOCIALDESK_PLATFORM_TIMEOUT_SECONDS": "10",
    },
    "DeskEventsFunction": {
        "SOCIALDESK_DESK_WEBHOOK_SECRET_ID": "socialdesk-zendesk-webhook",
        "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
        "SOCIALDESK_OUTBOUND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
        "SOCIALDESK_MAX_BODY_BYTES": "262144",
    },
    "SlaCheckFunction": {
        "SOCIALDESK_STATE_TABLE_NAME": "socialdesk-state",
        "SOCIALDESK_CRM_SECRET_ID": "socialdesk-crm",
        "SOCIALDESK_SECRET_CACHE_SECONDS": "300",
        "SOCIALDESK_SLA_ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:socialdesk-sla-alerts",
    },
}
WEBHOOK_SECRET = {"x_consumer_secret": "probe-x-secret", "meta_app_secret": "probe-meta-secret", "meta_verify_token": "probe-token"}
DESK_WEBHOOK_SECRET = {"zendesk_webhook_signing_secret": TEST_SIGNING_SECRET}
CRM_SECRET = {
    "zendesk_email": "socialdesk@acme.example",
    "zendesk_api_token": "probe-token",
    "salesforce_consumer_key": "3MVG9-probe",
    "salesforce_username": "socialdesk@acme.example",
    "salesforce_private_key": "-----BEGIN PRIVATE KEY-----\nnot used: Salesforce logs in at the first call\n-----END PRIVATE KEY-----",
}


def runtime_python() -> str | None:
    """The runtime's Python on PATH: the first python3.13 that runs (a pyenv shim can exist without its version) and
    has pip, which fetches this machine's builds of the layers' extension modules (a uv environment's has none)."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / RUNTIME
        if not os.access(candidate, os.X_OK):
            continue
        check = [str(candidate), "-c", "import sys, pip; assert sys.version_info[:2] == (3, 13)"]
        if subprocess.run(check, capture_output=True, check=False).returncode == 0:
            return str(candidate)
    return None


def python_version(python: str) -> str:
    command = [python, "-c", "import platform; print(platform.python_version())"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def sam_build(build_dir: Path, sam: str = "sam") -> None:
    """`sam build` of the template, the README's deploy command, into `build_dir`."""
    result = subprocess.run(
        [sam, "build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def built_layers(build_dir: Path, function: str) -> list[str]:
    """The logical ids of the function's layers that have a python/ folder, in the order Lambda merges them."""
    template = built_template(build_dir)
    shared = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    layers = [*shared, *template["Resources"][function]["Properties"].get("Layers", [])]
    names = [layer["Ref"] if isinstance(layer, dict) else str(layer).removeprefix("Ref::") for layer in layers]
    return [name for name in names if (build_dir / name / "python").is_dir()]


def built_template(build_dir: Path) -> dict[str, Any]:
    text = (build_dir / "template.yaml").read_text().replace("!Ref ", "Ref::").replace("!", "")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def config_folder(build_dir: Path) -> Path:
    """The ConfigLayer's folder (plain files, not built): what Lambda puts at /opt."""
    content = built_template(build_dir)["Resources"]["ConfigLayer"]["Properties"]["ContentUri"]
    return (build_dir / str(content)).resolve()


@dataclass(frozen=True)
class Deployed:
    """A read-only copy of the built artifact: each function's code folder and layer folders, and the runtime SDK."""

    root: Path
    layers: dict[str, list[str]]
    python: str

    def code(self, function: str) -> Path:
        return self.root / function

    def roots(self, function: str) -> list[str]:
        """The function's own folders: its code and its layers (not the runtime SDK)."""
        return [str(self.code(function)), *(str(self.root / layer / "python") for layer in self.layers[function])]

    def path(self, function: str) -> list[str]:
        """sys.path as Lambda orders it: /var/task, the layers (a later layer over an earlier one), the runtime."""
        code, *layers = self.roots(function)
        return [code, *reversed(layers), str(self.root / "runtime")]

    def rules_file(self) -> Path:
        return self.root / "ConfigLayer" / "socialdesk.toml"


def deploy(build_dir: Path, destination: Path, python: str) -> Deployed:
    """Copy the built functions and layers into `destination` (emptied), as Lambda would see them; read-only."""
    if destination.exists():
        make_writable(destination)
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    functions = [name for name, resource in built_template(build_dir)["Resources"].items() if resource["Type"] == "AWS::Serverless::Function"]
    layers = {function: built_layers(build_dir, function) for function in functions}
    for folder in {*functions, *(layer for names in layers.values() for layer in names)}:
        shutil.copytree(build_dir / folder, destination / folder, symlinks=True)
    shutil.copytree(config_folder(build_dir), destination / "ConfigLayer")
    for layer in {layer for names in layers.values() for layer in names}:
        swap_native_builds(destination / layer / "python", python, destination / "native" / layer)
    shutil.rmtree(destination / "native", ignore_errors=True)
    runtime_sdk(destination / "runtime", python)
    for path in (destination, *destination.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return Deployed(destination, layers, python)


def make_writable(folder: Path) -> None:
    for path in (folder, *folder.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def files(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its size: compared before and after a probe, it shows nothing was written."""
    return {str(path.relative_to(folder)): path.stat().st_size for path in folder.rglob("*") if path.is_file()}


def elf_machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    return int.from_bytes(header[18:20], "little") if header.startswith(ELF) else None


def host_machine() -> int:
    return {"x86_64": X86_64, "amd64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}[platform.machine().lower()]


def swap_native_builds(layer: Path, python: str, scratch: Path) -> None:
    """Replace the layer's arm64 shared objects with this machine's build of the same distributions (pip, for `python`).

    Only shared objects are copied in: every .py file and every pyc that runs stays the one the build produced.
    """
    if host_machine() == AARCH64:
        return
    native = [path for path in layer.rglob("*") if path.is_file() and not path.is_symlink() and elf_machine(path) is not None]
    if not native:
        return
    pins = set()
    for record in layer.glob("*.dist-info/RECORD"):
        listed = {line.split(",")[0] for line in record.read_text().splitlines()}
        if any(str(path.relative_to(layer)) in listed for path in native):
            name, _, version = record.parent.name.removesuffix(".dist-info").partition("-")
            pins.add(f"{name}=={version}")
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:", "--no-compile"]
    subprocess.run([*command, "--target", str(scratch), *sorted(pins)], check=True, capture_output=True, timeout=600)
    for path in native:
        path.unlink()
    for path in scratch.rglob("*"):
        if path.is_file() and elf_machine(path) is not None:
            target = layer / path.relative_to(scratch)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def runtime_sdk(destination: Path, python: str) -> None:
    """The runtime's boto3 and its dependencies, from this environment (pure Python), compiled by `python`.

    The Lambda runtime ships its SDK in /var/runtime; it is assumed to ship it with bytecode, so the baseline is the
    faster case and the ratio against it the stricter one.
    """
    destination.mkdir(parents=True)
    for name in RUNTIME_SDK:
        distribution = importlib.metadata.distribution(name)
        tops = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith(("..", "__pycache__"))}
        for top in tops:
            source = Path(str(distribution.locate_file(top)))
            if source.is_dir():
                shutil.copytree(source, destination / top, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
            elif source.suffix == ".py":
                shutil.copy2(source, destination / top)
    compile_all = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(destination)]
    subprocess.run(compile_all, check=True, capture_output=True, timeout=600)


def probe(deployed: Deployed, function: str, *, module: str = "app", lambda_init: bool = False, request: str | None = None) -> dict[str, Any]:
    """Import `module` (the handler, or `boto3` for the baseline) in a fresh runtime interpreter on `function`'s path.

    `lambda_init` sets the variables Lambda sets, so the handler builds its clients while it is imported, as in Lambda.
    """
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "TZ": "UTC"}
    environment |= {key: value for key, value in LAMBDA_ENVIRONMENT.items() if lambda_init or not key.startswith("AWS_LAMBDA_")}
    environment |= FUNCTION_ENVIRONMENT[function] | {"SOCIALDESK_RULES_FILE": str(deployed.rules_file())}
    config: dict[str, Any] = {"module": module, "request": request, "path": deployed.path(function), "roots": deployed.roots(function)}
    config |= {"secret": SECRETS.get(function, CRM_SECRET), "body": whatsapp_body(), "event": zendesk_delivery()}
    result = subprocess.run(
        [deployed.python, *ISOLATED, str(PROBE), json.dumps(config)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=deployed.root,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"probe of {module} on {function} failed:\n{result.stderr[-4000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


SECRETS = {"IngestFunction": WEBHOOK_SECRET, "DeskEventsFunction": DESK_WEBHOOK_SECRET}


def zendesk_delivery() -> dict[str, Any]:
    """An agent's public reply on a socialdesk ticket, signed now, as API Gateway hands it to desk_events: its
    conversation is not in the (in-memory, empty) table, so the delivery is handled without queueing a reply."""
    payload = comment_added(ticket_id=4411, comment_id=9101, body="Your order ships today.", external_id="whatsapp:106540352242922:16505551234")
    return apigw_event(*signed_request(payload))


def whatsapp_body() -> str:
    """A one-message WhatsApp delivery sent now (ingest quarantines replays), as Meta posts it."""
    import time

    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Dana Rodríguez"}, "wa_id": "16505551234"}],
        "messages": [
            {
                "from": "16505551234",
                "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdGRkI2MkY1",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": "Mi pedido #4411 no ha llegado, ¿pueden ayudarme?"},
            }
        ],
    }
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(payload, separators=(",", ":"))
