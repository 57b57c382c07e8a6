"""Run sample webhooks through the real ingest handler on this machine, AWS stood in by moto.

Usage: uv run python -m socialdesk.devtools.invoke events/meta-batch.json [more events...]
Prints the HTTP answer the platform would get and every event queued for processing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk import composition
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, LocalAws, local_aws
from socialdesk.devtools.samples import load
from socialdesk.model import decode_event
from socialdesk.observability import logger

if TYPE_CHECKING:
    from collections.abc import Sequence


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "socialdesk-ingest-local", 512, "local"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:socialdesk-ingest-local"


def _handler(aws: LocalAws) -> Any:
    """The ingest handler loaded from the file the template names, as Lambda loads it."""
    path, function = aws.stack.function_handler("IngestFunction")
    spec = importlib.util.spec_from_file_location("socialdesk_local_ingest_app", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"ingest handler not found at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m socialdesk.devtools.invoke", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("events", nargs="+", type=Path, help="API Gateway HTTP API v2 event files, e.g. events/x-mention.json")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.events if not path.is_file()]
    if missing:
        print(f"no such event file: {', '.join(missing)} (see events/README.md for the samples)", file=sys.stderr)
        return 2
    os.environ.update(AWS_ENVIRONMENT)
    logger.setLevel("WARNING")  # show refusals, not every acceptance
    with local_aws() as aws:
        os.environ.update(aws.environment("IngestFunction"))
        composition.reset()
        handler = _handler(aws)
        for path in args.events:
            # CloudWatch metric lines are printed; keep them out of the terminal. (Disabling metrics
            # instead leaves Powertools' metric set uncleared between invocations.)
            with contextlib.redirect_stdout(io.StringIO()):
                response = handler(load(path), _Context())
            print(f"\n{path.name}: HTTP {response['statusCode']} {response['body']}")
            for message in aws.drain(aws.inbound_url):
                event = decode_event(message["Body"])
                text = (event.text or "").replace("\n", " ")
                who = "brand" if event.from_brand else "customer"
                print(f"  queued {event.platform}/{event.kind} by {who} in {event.conversation_key}: {text[:60]!r}")
            for message in aws.drain(aws.quarantine_url):
                print(f"  quarantined: {message['Body'][:120]}")
        composition.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
