"""The `socialdesk` command: run the stack locally, send it sample webhooks, replay the demo, check the rules file.

Each command imports what it needs only when it runs, so `--help` and `config check` start
instantly, and failures end with a message and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from socialdesk.local.runner import LocalRunner

CHECKOUT = Path(__file__).resolve().parents[3]
DEFAULT_PORT = 3000


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    parser.set_defaults(command=_usage(parser), name="")
    args = parser.parse_args(argv)
    try:
        code: int = args.command(args)
    except KeyboardInterrupt:
        return 130
    except _CommandError as exc:
        print(f"socialdesk {args.name}: {exc}", file=sys.stderr)
        return exc.code
    return code


class _CommandError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialdesk", description="socialdesk: social media webhooks into Zendesk and Salesforce.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    local = commands.add_parser("local", help="run the whole stack on this machine", description=_doc("local"))
    _stack_options(local, port=DEFAULT_PORT)
    local.set_defaults(command=_local, name="local")

    send = commands.add_parser("send", help="sign a sample webhook and post it to the local stack", description=_doc("send"))
    send.add_argument("sample", nargs="?", help="a sample name from events/ (e.g. x-mention) or a path to an event file")
    send.add_argument("--list", action="store_true", help="list the samples and what each one is")
    send.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", help="the local stack (default %(default)s)")
    send.add_argument(
        "--as-recorded",
        action="store_true",
        help="keep the sample's recorded timestamps (ingest quarantines events over 8 days old as replays); by default they move to now",
    )
    send.set_defaults(command=_send, name="send")

    demo = commands.add_parser("demo", help="replay a realistic scenario on a fresh local stack and summarise it", description=_doc("demo"))
    _stack_options(demo, port=0)
    demo.set_defaults(command=_demo, name="demo")

    config = commands.add_parser("config", help="work with the rules file", description="Work with the rules file.")
    config.set_defaults(command=_usage(config), name="config")
    config_commands = config.add_subparsers(title="commands", metavar="COMMAND")
    check = config_commands.add_parser(
        "check", help="validate a rules file, listing every problem", description="Validate a rules file, listing every problem."
    )
    check.add_argument(
        "file", nargs="?", type=Path, default=CHECKOUT / "config" / "socialdesk.toml", help="the rules file (default config/socialdesk.toml)"
    )
    check.set_defaults(command=_config_check, name="config check")
    return parser


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """For a command group run without its subcommand: its help, and the exit code of a usage error."""

    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return usage


def _stack_options(parser: argparse.ArgumentParser, *, port: int) -> None:
    parser.add_argument("--port", type=int, default=port, help="port on 127.0.0.1 (default %(default)s" + (", any free port)" if port == 0 else ")"))
    parser.add_argument("--template", type=Path, default=CHECKOUT / "infra" / "template.yaml", help="the SAM template (default infra/template.yaml)")
    parser.add_argument("--state-dir", type=Path, default=Path(".socialdesk") / parser.prog.split()[-1], help="where sandbox state is kept")
    parser.add_argument("--rules", type=Path, help="a rules file instead of config/socialdesk.toml")
    parser.add_argument("--credentials", type=Path, help="real Zendesk/Salesforce credentials (default .socialdesk/credentials.toml if present)")
    parser.add_argument("--verbose", action="store_true", help="also print the functions' own JSON logs")


def _doc(command: str) -> str:
    return {
        "local": (
            "Run the stack from infra/template.yaml on this machine: the Lambda handlers unchanged behind a local HTTP API, "
            "queues feeding their consumers, AWS stood in by moto, Zendesk and Salesforce as sandboxes (or real ones, given "
            "credentials). The console is at http://127.0.0.1:<port>/. Stop with Ctrl+C."
        ),
        "send": "Sign a sample event from events/ (or an edited file) with the local test secrets and post it to the local stack.",
        "demo": (
            "Start a fresh local stack, replay a morning of social customer service (several customers and platforms, a thread "
            "with follow-ups, a duplicate delivery, the brand's own replies, an unanswered comment), move the clock ahead and "
            "print what came of it. Exits 0 when every expected outcome is there."
        ),
    }[command]


def _runner(args: argparse.Namespace) -> LocalRunner:
    from socialdesk.local.credentials import DEFAULT_FILE, CredentialsError, local_credentials
    from socialdesk.local.gateway import free_port
    from socialdesk.local.runner import LocalRunner, RunnerOptions

    if args.credentials and not args.credentials.exists():
        raise _CommandError(f"credentials file not found: {args.credentials}")
    try:
        credentials = local_credentials(args.credentials or DEFAULT_FILE, os.environ)
    except CredentialsError as exc:
        raise _CommandError(str(exc)) from exc
    port = args.port or free_port()
    options = RunnerOptions(
        template=args.template, port=port, state_dir=args.state_dir, rules_file=args.rules, credentials=credentials, verbose=args.verbose
    )
    return LocalRunner(options)


def _local(args: argparse.Namespace) -> int:
    from socialdesk.local.runner import RunnerError

    try:
        with _runner(args):
            while True:
                time.sleep(3600)
    except RunnerError as exc:
        raise _CommandError(str(exc)) from exc


def _send(args: argparse.Namespace) -> int:
    from socialdesk.local.send import SampleNotFoundError, find_sample, list_samples, prepared, send_event

    events = CHECKOUT / "events"
    if args.list:
        samples = list_samples(events)
        width = max(len(sample.name) for sample in samples)
        for sample in samples:
            print(f"{sample.name.ljust(width)}  {sample.description}")
        return 0
    if not args.sample:
        raise _CommandError("name a sample (e.g. x-mention) or a file; list them with --list", code=2)
    try:
        path = find_sample(args.sample, events)
    except SampleNotFoundError as exc:
        raise _CommandError(str(exc), code=2) from exc
    event = prepared(path, now=None if args.as_recorded else datetime.now(UTC))
    try:
        status, body = send_event(args.url.rstrip("/"), event)
    except OSError as exc:
        raise _CommandError(f"no local stack answers at {args.url} ({exc}); start one with: socialdesk local") from exc
    print(f"{event['requestContext']['http']['method']} {event['rawPath']} → {status} {body}")
    return 0 if 200 <= status < 300 else 1


def _demo(args: argparse.Namespace) -> int:
    from socialdesk.local.demo import run_demo
    from socialdesk.local.runner import RunnerError

    shutil.rmtree(args.state_dir, ignore_errors=True)  # every demo starts from nothing
    try:
        return run_demo(lambda: _runner(args), CHECKOUT / "events")
    except RunnerError as exc:
        raise _CommandError(str(exc)) from exc


def _config_check(args: argparse.Namespace) -> int:
    """Exit 0 when valid, 1 when not (every problem listed with its key), 2 when the file cannot be read."""
    from socialdesk.rules import RulesError, load_rules

    path: Path = args.file
    try:
        rules = load_rules(path)
    except RulesError as exc:
        unreadable = exc.problems == ["file not found"] or exc.problems[0].startswith("not valid TOML")
        print(f"{path}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2 if unreadable else 1
    salesforce = f"Salesforce {rules.salesforce.mode} mode" if rules.salesforce else "no Salesforce"
    print(f"{path}: valid (Zendesk {rules.zendesk.subdomain}.{rules.zendesk.domain}, {salesforce})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
