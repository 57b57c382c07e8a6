"""Runs inside a fresh runtime interpreter on a deployed copy of the built artifact (bench/deployed_artifact.py starts it).

Started as `python3.13 -S -s -P artifact_probe.py CONFIG_JSON`, so nothing but the paths in CONFIG reaches sys.path. It
imports one module (`app`, the handler, or `boto3`, the baseline) as Lambda's runtime would and prints one JSON line:
how long the import took, how many modules it loaded, and every file under the artifact that Python compiled from
source on the way (an audit hook on `compile`: with valid bytecode shipped beside each source there is none). With
`request`, it then makes the function's first request with every AWS call answered in memory (botocore's HTTP send is
replaced; the request is still built, signed and parsed) and reports its time, the clients it built, the modules it
imported and the heavy packages loaded by then. Only the standard library is imported before the measured import.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import sys
import time
from typing import Any

CONFIG: dict[str, Any] = json.loads(sys.argv[1])
ROOTS: tuple[str, ...] = tuple(CONFIG["roots"])
HEAVY = ("pydantic", "zenpy", "simple_salesforce", "tweepy", "requests")
CLIENTS = ("sqs", "secretsmanager", "s3", "dynamodb", "sns", "comprehend")
compiled: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "compile" and len(args) > 1 and isinstance(args[1], str) and args[1].startswith(ROOTS):
        compiled.append(args[1])


sys.addaudithook(_audit)
sys.path[:0] = CONFIG["path"]


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "socialdesk-probe", 512, "probe-1"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:socialdesk-probe"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def built_clients() -> list[str]:
    if "socialdesk.composition.clients" not in sys.modules:
        return []
    clients = sys.modules["socialdesk.composition.clients"]
    return [name for name in CLIENTS if getattr(clients, name).cache_info().currsize]


def answer_aws_in_memory(secret: dict[str, str]) -> None:
    """Secrets Manager, SQS and DynamoDB (an empty table: every update succeeds, every read finds nothing) answered
    without a network: only the transport is replaced."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from botocore.httpsession import URLLib3Session

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, *args: Any, **kwargs: Any) -> Any:
            yield self.body

    def send(self: Any, request: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        sent = json.loads(body or b"{}")
        if target.endswith("GetSecretValue"):
            answer: dict[str, Any] = {"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe", "Name": "probe"}
            answer |= {"SecretString": json.dumps(secret), "VersionId": "v1", "VersionStages": [sent.get("VersionStage", "AWSCURRENT")]}
        elif target.endswith("SendMessageBatch"):
            # MD5OfMessageBody is SQS's own checksum of each body.
            successful = [
                {"Id": entry["Id"], "MessageId": f"m-{entry['Id']}", "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest()}
                for entry in sent["Entries"]
            ]
            answer = {"Successful": successful, "Failed": []}
        elif target.endswith(("UpdateItem", "GetItem")):
            answer = {}
        elif target.endswith("Query"):
            answer = {"Items": [], "Count": 0, "ScannedCount": 0}
        else:
            raise AssertionError(f"unexpected AWS call {target}")
        return AWSResponse(request.url, 200, HTTPHeaders.from_dict({"content-type": "application/x-amz-json-1.0"}), Raw(json.dumps(answer).encode()))

    URLLib3Session.send = send  # type: ignore[method-assign]


def ingest_request(module: Any, config: dict[str, Any]) -> int:
    body = config["body"]
    signature = "sha256=" + hmac.new(config["secret"]["meta_app_secret"].encode(), body.encode(), hashlib.sha256).hexdigest()
    event = {
        "rawPath": "/webhooks/meta",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": signature},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/meta"}, "requestId": "probe-1"},
    }
    return int(module.lambda_handler(event, Context())["statusCode"])


def process_build(module: Any, config: dict[str, Any]) -> int:
    """What the process handler does first for every batch: read the CRM secret and build the use case from it."""
    batch = module.process_batch()
    return 200 if batch is not None else 500


def outbound_build(module: Any, config: dict[str, Any]) -> int:
    """What the outbound handler does first for every batch: read the platform and CRM secrets and build the use case."""
    batch = module.outbound_batch()
    return 200 if batch is not None else 500


def desk_events_request(module: Any, config: dict[str, Any]) -> int:
    """A Zendesk webhook delivery, signed and timestamped by the caller (socialdesk.devtools.zendesk_events)."""
    return int(module.lambda_handler(config["event"], Context())["statusCode"])


def sla_check_run(module: Any, config: dict[str, Any]) -> int:
    """One run of the every-minute schedule, as EventBridge Scheduler sends it, over an empty due index."""
    event = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "detail-type": "Scheduled Event", "detail": {}}
    return 200 if module.lambda_handler(event, Context())["ran"] else 500


REQUESTS = {
    "ingest": ingest_request,
    "process": process_build,
    "outbound": outbound_build,
    "desk_events": desk_events_request,
    "sla_check": sla_check_run,
}


def main() -> None:
    before = set(sys.modules)
    start = time.perf_counter()
    module = importlib.import_module(CONFIG["module"])
    elapsed = time.perf_counter() - start
    loaded = set(sys.modules) - before
    from_artifact = [sys.modules[name] for name in loaded if str(getattr(sys.modules[name], "__file__", "") or "").startswith(ROOTS)]
    sources = [m for m in from_artifact if str(m.__file__).endswith(".py")]
    result: dict[str, Any] = {
        "import_seconds": elapsed,
        "modules": len(loaded),
        "modules_from_artifact": len(from_artifact),
        "without_bytecode": sorted({str(m.__file__) for m in sources if not _exists(_cached(m))}),  # a module may have two names
        "heavy": sorted(name for name in loaded if name.split(".")[0] in HEAVY),
        "compiled_during_import": list(compiled),
        "clients_built_at_import": built_clients(),
        "dont_write_bytecode": sys.flags.dont_write_bytecode,
    }
    request = CONFIG.get("request")
    if request:
        answer_aws_in_memory(CONFIG["secret"])
        compiled.clear()
        clients_before, modules_before = set(built_clients()), set(sys.modules)
        start = time.perf_counter()
        status = REQUESTS[request](module, CONFIG)
        result |= {
            "first_request_seconds": time.perf_counter() - start,
            "first_request_status": status,
            "clients_built_by_first_request": sorted(set(built_clients()) - clients_before),
            "imported_by_first_request": sorted(set(sys.modules) - modules_before),
            "compiled_during_first_request": list(compiled),
            "heavy_after_first_request": sorted(name for name in sys.modules if name.split(".")[0] in HEAVY),
        }
    print(json.dumps(result))


def _cached(module: Any) -> str:
    """Where the module's bytecode is; `__cached__` too, for modules wrapped in another object (cryptography's
    deprecation wrapper replaces a few in sys.modules with one whose __spec__ is None)."""
    spec = getattr(module, "__spec__", None)
    return str((spec.cached if spec is not None else None) or getattr(module, "__cached__", None) or "")


def _exists(path: str) -> bool:
    if not path:
        return False
    try:
        with open(path, "rb"):  # noqa: PTH123 - pathlib is not imported before the measured import
            return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
