"""`socialdesk local`: the stack from infra/template.yaml on this machine.

The same Lambda handlers run unchanged behind a local HTTP API; SQS queues feed their
consumers; schedules run on a clock that can be moved forward; AWS is moto, with every queue,
table and secret created from the template; Zendesk and Salesforce are sandboxes kept in
`<state dir>/sandbox` unless real credentials are given. Everything a user can get wrong (the
template, the rules file, the credentials, a state directory another stack holds) is checked before
anything listens or any state is cleared, and refused with the reason.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from unittest.mock import patch

import yaml

from socialdesk import composition
from socialdesk.composition.desk import ZENDESK_CREDENTIALS
from socialdesk.composition.process import SALESFORCE_CREDENTIAL, missing_credentials
from socialdesk.devtools.local_aws import AWS_ENVIRONMENT, LocalAws, local_aws
from socialdesk.devtools.template_stack import load_template
from socialdesk.local.attention import DeferredEvents
from socialdesk.local.console_site import ConsoleSite
from socialdesk.local.event_sources import POLL_INTERVAL_SECONDS, QueueSource, Schedule, queue_sources, run_due, schedules
from socialdesk.local.functions import LocalFunction, load_functions
from socialdesk.local.gateway import Routes, start_gateway
from socialdesk.local.output import say, show_function_lines, show_sandbox_lines
from socialdesk.local.state_lock import StateDirInUseError, state_lock
from socialdesk.observability import logger, quiet_third_party_loggers
from socialdesk.rules import PLACEHOLDER_SUBDOMAIN, RulesError, load_rules
from socialdesk.sandbox_state import clear_sandbox_files

if TYPE_CHECKING:
    from types import TracebackType

    from socialdesk.local.console import ConversationRow


class RunnerError(Exception):
    """The local stack cannot start; the message says why and what to do."""


@dataclass
class RunnerOptions:
    template: Path
    port: int
    state_dir: Path
    rules_file: Path | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    verbose: bool = False


class LocalRunner:
    def __init__(self, options: RunnerOptions) -> None:
        self.options = options
        self.offset = timedelta(0)
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._exit = ExitStack()
        self.aws: LocalAws
        self.functions: dict[str, LocalFunction] = {}
        self.sources: list[QueueSource] = []
        self.schedules: list[Schedule] = []
        self.backends = ""
        self.console: ConsoleSite

    @property
    def sandbox_dir(self) -> Path:
        return self.options.state_dir / "sandbox"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.options.port}"

    def clock(self) -> datetime:
        """Now, plus however far `advance` has moved the local clock."""
        return datetime.now(UTC) + self.offset

    def advance(self, span: timedelta) -> None:
        """Move the local clock forward, running the schedules that fall due on the way."""
        self.offset += span
        run_due(self.schedules, self.clock)

    def __enter__(self) -> LocalRunner:
        self._check_template()
        try:
            self._hold_state_dir()
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        self._exit.close()

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """True once every queue is empty and no batch is running (messages waiting to be retried count as busy)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._queue_empty(source) and not source.busy.is_set() for source in self.sources):
                return True
            time.sleep(POLL_INTERVAL_SECONDS)
        return False

    def rows(self) -> list[ConversationRow]:
        return self.console.rows()

    # --- start-up ---------------------------------------------------------------------------

    def _check_template(self) -> None:
        template = self.options.template
        if not template.is_file():
            raise RunnerError(f"template not found: {template} (run from the socialdesk checkout, or pass --template)")
        try:
            loaded = load_template(template)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise RunnerError(f"template {template} cannot be read: {exc}") from exc
        except RecursionError as exc:  # the YAML parser recurses once per nested node
            raise RunnerError(f"template {template} cannot be read: its nodes are nested too deeply") from exc
        if not isinstance(loaded, dict) or not isinstance(loaded.get("Resources"), dict):
            raise RunnerError(f"template {template} is not a SAM template (no Resources section)")

    def _hold_state_dir(self) -> None:
        try:
            self._exit.enter_context(state_lock(self.options.state_dir, port=self.options.port))
        except StateDirInUseError as exc:
            raise RunnerError(f"{exc}; stop that stack first, or give this one another --state-dir") from exc
        except OSError as exc:
            raise RunnerError(f"state directory {self.options.state_dir} cannot be used: {exc.strerror or exc}") from exc

    def _check_rules_and_credentials(self, environment: dict[str, str]) -> None:
        """The process function would fail on every batch with a bad rules file or half the credentials: refuse to start instead."""
        if "SOCIALDESK_RULES_FILE" not in environment:
            return  # a template without the process function
        shown = self.options.rules_file or Path(environment["SOCIALDESK_RULES_FILE"])
        try:
            rules = load_rules(Path(environment["SOCIALDESK_RULES_FILE"]))
        except RulesError as exc:
            if exc.unreadable:
                raise RunnerError(f"rules file {shown}: {'; '.join(exc.problems)}") from exc
            raise RunnerError(f"rules file {shown} is invalid: {'; '.join(exc.problems)} (check it with: socialdesk config check {shown})") from exc
        credentials = _Credentials(self.options.credentials)
        if missing := missing_credentials(rules, credentials, self.sandbox_dir):
            raise RunnerError(
                f"credentials incomplete: no value for {', '.join(missing)}; add them to the credentials file "
                f"or set SOCIALDESK_CRM_<KEY>, or remove the others to use the sandboxes"
            )
        zendesk_is_real = any(credentials.values(key) for key in ZENDESK_CREDENTIALS)
        if zendesk_is_real and rules.zendesk.subdomain == PLACEHOLDER_SUBDOMAIN:
            raise RunnerError(
                f'Zendesk credentials are given but rules file {shown} names the placeholder subdomain "{PLACEHOLDER_SUBDOMAIN}"; '
                "pass --rules with your zendesk.subdomain"
            )

    def _start(self) -> None:
        options = self.options
        self._exit.enter_context(patch.dict(os.environ, {**AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}))
        quiet_third_party_loggers()  # --verbose sets socialdesk's logger to DEBUG, never the libraries'
        if options.verbose:
            self._exit.callback(logger.setLevel, logger.log_level)
            logger.setLevel("DEBUG")
        else:
            self._exit.callback(show_function_lines(logger))
        self.aws = self._exit.enter_context(local_aws(options.template))
        deferred = DeferredEvents()  # whatever --verbose prints, the console hears why events wait
        self._exit.callback(deferred.watch(logger))
        self.console = ConsoleSite(self, deferred)
        # The template creates the CRM secret without a value, as CloudFormation does; this is the operator's first write.
        if "CrmSecret" in self.aws.stack.resources:
            self.aws.put_secret("CrmSecret", dict(options.credentials))
        environment = self._environment()
        self._check_rules_and_credentials(environment)
        self._clear_sandboxes()
        os.environ.update(environment)
        composition.reset()
        self._exit.callback(composition.reset)
        self._exit.callback(show_sandbox_lines())
        self.functions = load_functions(self.aws.stack)
        routes = Routes(self.aws.stack, self.functions)
        try:
            server = start_gateway(options.port, routes, self.console, self.console.reply)
        except PermissionError as exc:  # ports below 1024 are root's (or a sandbox's policy forbids listening)
            raise RunnerError(f"not allowed to listen on port {options.port} ({exc.strerror}); choose another with --port") from exc
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            what = "is in use" if in_use else "cannot be listened on"
            raise RunnerError(f"port {options.port} {what} ({exc.strerror or exc}); choose another with --port") from exc
        self._exit.callback(server.shutdown)
        self.sources = queue_sources(self.aws, self.functions)
        self.schedules = schedules(self.aws, self.functions, self.clock())
        self._poller = threading.Thread(target=self._poll, name="socialdesk-event-sources", daemon=True)
        self._poller.start()
        zendesk = "real" if any(options.credentials.get(key) for key in ZENDESK_CREDENTIALS) else "sandbox"
        salesforce = "real" if options.credentials.get(SALESFORCE_CREDENTIAL) else "sandbox"
        self.backends = f"Zendesk: {zendesk} · Salesforce: {salesforce} · AWS: moto"
        say("local", f"socialdesk is running at {self.url} ({self.backends})")
        say("local", f"webhooks: {', '.join(routes.paths())}; console: {self.url}/; sandbox state: {self.sandbox_dir}")

    def _clear_sandboxes(self) -> None:
        """moto starts empty: the sandboxes start with it. Only their own files go; anything else in the folder is the user's."""
        try:
            clear_sandbox_files(self.sandbox_dir)
        except FileExistsError as exc:
            raise RunnerError(f"state directory {self.options.state_dir} cannot be used: {self.sandbox_dir} is not a directory") from exc
        except OSError as exc:
            where = exc.filename or self.sandbox_dir
            raise RunnerError(f"state directory {self.options.state_dir} cannot be used: {where}: {exc.strerror or exc}") from exc

    def _environment(self) -> dict[str, str]:
        """Every function's variables together (one process hosts them all), refusing any that disagree."""
        merged: dict[str, str] = {}
        for logical_id in self.aws.stack.functions:
            for name, value in self.aws.environment(logical_id).items():
                if name in merged and merged[name] != value:
                    raise RunnerError(
                        f"{logical_id} sets {name}={value!r} where another function sets {merged[name]!r}; they cannot share one process"
                    )
                merged[name] = value
        merged["SOCIALDESK_SANDBOX_DIR"] = str(self.sandbox_dir)
        if self.options.rules_file is not None:
            merged["SOCIALDESK_RULES_FILE"] = str(self.options.rules_file.resolve())
        return merged

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                handled = any([source.poll_once(self.aws) for source in self.sources])
                run_due(self.schedules, self.clock)
            except Exception as exc:  # keep polling: one failed poll must not stop the local stack
                say("local", f"polling failed: {type(exc).__name__}: {exc}")
                handled = False
            if not handled:
                time.sleep(POLL_INTERVAL_SECONDS)

    def _queue_empty(self, source: QueueSource) -> bool:
        attributes = self.aws.sqs.get_queue_attributes(
            QueueUrl=source.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return bool(attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0")


class _Credentials:
    """The local credentials read as the CRM secret is (the shape `missing_credentials` asks)."""

    name = "local credentials"

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        value = self._values.get(key, "").strip()
        return (value,) if value else ()
