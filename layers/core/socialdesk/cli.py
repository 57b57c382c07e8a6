"""The `socialdesk` command: run the stack locally, send it sample webhooks, replay the demo, check the rules file.

Each command imports what it needs only when it runs, so `--help` and `config check` start
instantly, and failures end with one line and an exit code, never a traceback: 0 done, 1 failed
(the stack cannot start, nothing answers, a non-2xx answer, an invalid rules file), 2 a usage error
(a bad argument, an unknown sample, a file that cannot be read as what it should be), and
128 + the signal number when a command is stopped (130 for Ctrl+C or SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from socialdesk.local.runner import LocalRunner

CHECKOUT = Path(__file__).resolve().parents[3]
DEFAULT_PORT = 3000
STATE_ROOT = Path(".socialdesk")


def main(argv: Sequence[str] | None = None) -> int:
    # SIGINT and SIGTERM are handled from the first line: a script that starts `socialdesk local &` (SIGINT ignored, as
    # shells start background jobs) and stops it while it is still importing its runner must not lose that signal.
    from socialdesk.local.stopping import Stopped, raise_if_stopped, stop_on_signals

    name = ""
    with stop_on_signals():
        try:
            parser = _parser()
            parser.set_defaults(command=_usage(parser), name="")
            args = parser.parse_args(argv)
            name = args.name
            code: int = args.command(args)
            raise_if_stopped()  # a signal that came while the command ran is its outcome, even if its Stopped was lost
        except KeyboardInterrupt:
            return 130
        except Stopped as stop:
            if name in ("local", "demo"):
                from socialdesk.local.output import say

                say(name, f"socialdesk {name} stopped ({stop.signal.name})")
            return stop.exit_code
        except _CommandError as exc:
            print(f"socialdesk {name}: {exc}", file=sys.stderr)
            return exc.code
        return code


class _CommandError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error, with where to read more; exit code 2 as argparse's."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """`--version`, reading the installed package's metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the installed version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("socialdesk")
        except PackageNotFoundError:
            found = "(not installed as a package: run it with ./uvw run socialdesk)"
        print(f"socialdesk {found}")
        parser.exit(0)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number: give 1 to 65535, or 0 for any free port")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="socialdesk", description="socialdesk: social media webhooks into Zendesk and Salesforce.")
    parser.add_argument("--version", action=_Version)
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
    send.add_argument(
        "--fresh",
        action="store_true",
        help="give the sample's messages new ids, so sending it again is a new message in the same conversation, not a duplicate",
    )
    send.set_defaults(command=_send, name="send")

    reply = commands.add_parser("reply", help="answer a ticket as an agent in the local sandbox helpdesk", description=_doc("reply"))
    reply.add_argument("ticket", type=int, help="the sandbox ticket number (e.g. 4014)")
    reply.add_argument("text", help="the agent's public comment")
    reply.add_argument("--private", action="store_true", help="answer privately (tags the ticket socialdesk_private first)")
    reply.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", help="the local stack (default %(default)s)")
    reply.set_defaults(command=_reply, name="reply")

    demo = commands.add_parser("demo", help="replay a realistic scenario on a fresh local stack and summarise it", description=_doc("demo"))
    _stack_options(demo, port=0)
    demo.set_defaults(command=_demo, name="demo")

    zendesk = commands.add_parser("zendesk", help="what a Zendesk admin sets up", description="What a Zendesk admin sets up.")
    zendesk.set_defaults(command=_usage(zendesk), name="zendesk")
    zendesk_commands = zendesk.add_subparsers(title="commands", metavar="COMMAND")
    webhook = zendesk_commands.add_parser(
        "webhook", help="print the Zendesk webhook to create (JSON for POST /api/v2/webhooks)", description=_doc("zendesk webhook")
    )
    webhook.add_argument("endpoint", help="the stack's ZendeskWebhookUrl output (https://…/webhooks/zendesk)")
    webhook.set_defaults(command=_zendesk_webhook, name="zendesk webhook")

    config = commands.add_parser("config", help="work with the rules file", description="Work with the rules file.")
    config.set_defaults(command=_usage(config), name="config")
    config_commands = config.add_subparsers(title="commands", metavar="COMMAND")
    check = config_commands.add_parser(
        "check", help="validate a rules file, listing every problem", description="Validate a rules file, listing every problem."
    )
    check.add_argument(
        "file", nargs="?", type=Path, default=CHECKOUT / "config" / "socialdesk.toml", help="the rules file (default config/socialdesk.toml)"
    )
    check.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too, such as the shipped placeholder subdomain")
    check.set_defaults(command=_config_check, name="config check")
    return parser


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """For a command group run without its subcommand: its help, and the exit code of a usage error."""

    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return usage


def _stack_options(parser: argparse.ArgumentParser, *, port: int) -> None:
    default = "%(default)s, any free port" if port == 0 else "%(default)s"
    parser.add_argument("--port", type=_port, default=port, help=f"port on 127.0.0.1 (default {default})")
    parser.add_argument("--template", type=Path, default=CHECKOUT / "infra" / "template.yaml", help="the SAM template (default infra/template.yaml)")
    command = parser.prog.split()[-1]
    where = ".socialdesk/local/<port>: each port its own" if command == "local" else f".socialdesk/{command}"
    parser.add_argument("--state-dir", type=Path, help=f"where sandbox state is kept, locked while the stack runs (default {where})")
    parser.add_argument("--rules", type=Path, help="a rules file instead of config/socialdesk.toml")
    parser.add_argument("--credentials", type=Path, help="real Zendesk/Salesforce credentials (default .socialdesk/credentials.toml if present)")
    parser.add_argument("--verbose", action="store_true", help="also print the functions' own JSON logs")


def _doc(command: str) -> str:
    return {
        "local": (
            "Run the stack from infra/template.yaml on this machine: the Lambda handlers unchanged behind a local HTTP API, "
            "queues feeding their consumers, AWS stood in by moto, Zendesk and Salesforce as sandboxes (or real ones, given "
            "credentials). The console is at http://127.0.0.1:<port>/. Stop with Ctrl+C, or SIGINT or SIGTERM from a script."
        ),
        "send": (
            "Sign a sample event from events/ (or an edited file) with the local test secrets and post it to the local stack, "
            "its timestamps moved to now."
        ),
        "zendesk webhook": (
            "Print the webhook a Zendesk admin creates, as the JSON body of Zendesk's Create Webhook call (POST /api/v2/webhooks): "
            "an event-subscribed webhook for ticket comments and status changes, posting JSON to the endpoint. Create it with "
            "curl or paste its values in Admin Center; then copy its signing secret into ZendeskWebhookSecret (README, Zendesk setup)."
        ),
        "reply": (
            "Answer a ticket of the running local stack as an agent: the comment is added to the sandbox helpdesk, and the "
            "ticket event Zendesk would send is signed and posted to the stack's /webhooks/zendesk, from where desk_events, "
            "the outbound queue and the outbound function carry it to the sandbox platform. The console's thread view has the "
            "same form."
        ),
        "demo": (
            "Start a fresh local stack, replay a morning of social customer service (several customers and platforms, a thread "
            "with follow-ups, a duplicate delivery, the brand's own replies, an unanswered comment), move the clock ahead and "
            "print what came of it: every conversation, then every automatic message the sandbox platforms sent (acknowledgements "
            "in Spanish, English and Korean, an out-of-hours one, an FAQ answer; none outside WhatsApp's window or to an X post "
            "not mentioning the brand) and an agent's reply from the sandbox Zendesk. Exits 0 when every expected outcome is there."
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
        template=args.template,
        port=port,
        state_dir=args.state_dir or default_state_dir(args.name, port),
        rules_file=args.rules,
        credentials=credentials,
        verbose=args.verbose,
    )
    return LocalRunner(options)


@contextmanager
def _started(args: argparse.Namespace) -> Iterator[LocalRunner]:
    """The stack, started; stopped at once if SIGINT or SIGTERM came while it started (see raise_if_stopped)."""
    from socialdesk.local.stopping import raise_if_stopped

    with _runner(args) as runner:
        raise_if_stopped()
        yield runner


def default_state_dir(command: str, port: int) -> Path:
    """`local` keeps state per port, so a second stack on another port (the advice for a taken port) never touches the first's."""
    return STATE_ROOT / "local" / str(port) if command == "local" else STATE_ROOT / command


def _local(args: argparse.Namespace) -> int:
    """Runs until SIGINT or SIGTERM, which `main` handles (it says the stack stopped, and exits 130 or 143)."""
    from socialdesk.local.output import say
    from socialdesk.local.runner import RunnerError

    try:
        with _started(args):
            say("local", f"stop it with Ctrl+C, or from a script: kill -INT {os.getpid()} (or kill -TERM {os.getpid()})")
            while True:
                time.sleep(3600)
    except RunnerError as exc:
        raise _CommandError(str(exc)) from exc


def _send(args: argparse.Namespace) -> int:
    from http.client import HTTPException

    from socialdesk.local.send import SampleError, find_sample, list_samples, prepared, send_event

    events = CHECKOUT / "events"
    if args.list:
        samples = list_samples(events)
        width = max(len(sample.name) for sample in samples)
        for sample in samples:
            print(f"{sample.name.ljust(width)}  {sample.description}")
        return 0
    if not args.sample:
        raise _CommandError("name a sample (e.g. x-mention) or a file; list them with --list", code=2)
    url = _stack_url(args.url)
    try:
        event = prepared(find_sample(args.sample, events), now=None if args.as_recorded else datetime.now(UTC), fresh=args.fresh)
    except SampleError as exc:
        raise _CommandError(str(exc), code=2) from exc
    try:
        status, body = send_event(url, event)
    except (OSError, HTTPException) as exc:
        raise _CommandError(f"no local stack answers at {url} ({exc}); start one with: socialdesk local") from exc
    from socialdesk.local.output import printable  # what a stack answers may echo hostile text (a reflected hub.challenge)

    print(printable(f"{event['requestContext']['http']['method']} {event['rawPath']} → {status} {body}"))
    return 0 if 200 <= status < 300 else 1


def _zendesk_webhook(args: argparse.Namespace) -> int:
    import json

    from socialdesk.desk.webhook_signature import WEBHOOK_PATH, zendesk_webhook

    url = _stack_url(args.endpoint)
    if not url.startswith("https://") or not url.endswith(WEBHOOK_PATH):
        raise _CommandError(f"{args.endpoint}: not the stack's https://…{WEBHOOK_PATH} (its ZendeskWebhookUrl output)", code=2)
    print(json.dumps(zendesk_webhook(url), indent=2))
    return 0


def _reply(args: argparse.Namespace) -> int:
    import json
    import urllib.error
    import urllib.request

    url = _stack_url(args.url)
    body = json.dumps({"ticket": args.ticket, "text": args.text, "private": args.private}).encode()
    request = urllib.request.Request(f"{url}/console/reply", data=body, headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            made = json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        raise _CommandError(f"the local stack refused the reply ({refused.code}): {refused.read().decode('utf-8', 'replace')}") from refused
    except OSError as exc:
        raise _CommandError(f"no local stack answers at {url} ({exc}); start one with: socialdesk local") from exc
    print(f"ticket #{made['ticket']}: comment {made['comment_id']} added; Zendesk's event → /webhooks/zendesk {made['webhook_status']}")
    return 0


def _stack_url(given: str) -> str:
    """`127.0.0.1:3000` means http://127.0.0.1:3000, as a browser reads it; anything but an http(s) address is a usage error."""
    from urllib.parse import urlsplit

    url = given if "://" in given else f"http://{given}"
    try:
        split = urlsplit(url)
        split.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise _CommandError(f"--url {given}: {exc}", code=2) from exc
    if split.scheme not in ("http", "https") or not split.hostname:
        raise _CommandError(f"--url {given}: not an http:// address such as http://127.0.0.1:{DEFAULT_PORT}", code=2)
    if not _is_host(split.hostname):
        raise _CommandError(f"--url {given}: {split.hostname!r} is not a host name or IP address", code=2)
    return url.rstrip("/")


_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _is_host(host: str) -> bool:
    """An IP address, or a DNS name of labels of 1 to 63 letters, digits, hyphens (and underscores); international names too."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")  # what the resolver does with it (UnicodeError for a label over 63)
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _demo(args: argparse.Namespace) -> int:
    """Every demo starts from nothing: the runner clears its sandbox state, once it holds the state directory."""
    from socialdesk.local.demo import run_demo
    from socialdesk.local.runner import RunnerError

    try:
        return run_demo(lambda: _started(args), CHECKOUT / "events")
    except RunnerError as exc:
        raise _CommandError(str(exc)) from exc


def _config_check(args: argparse.Namespace) -> int:
    """Exit 0 when valid (warnings printed), 1 when not (every problem listed with its key; warnings too with --strict), 2 when unreadable."""
    from socialdesk.rules import RulesError, load_rules, placeholder_warnings

    path: Path = args.file
    try:
        rules = load_rules(path)
    except RulesError as exc:
        if exc.unreadable:
            raise _CommandError(f"{path}: {'; '.join(exc.problems)}", code=2) from exc
        print(f"{path}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    salesforce = f"Salesforce {rules.salesforce.mode} mode" if rules.salesforce else "no Salesforce"
    print(f"{path}: valid (Zendesk {rules.zendesk.subdomain}.{rules.zendesk.domain}, {salesforce})")
    warnings = placeholder_warnings(rules)
    for warning in warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 1 if warnings and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
