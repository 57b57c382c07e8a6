"""The README's first commands, run as an ops engineer runs them: `socialdesk local`, `socialdesk send`, `socialdesk demo`.

Each runs as its own process from the installed `socialdesk` package, in a folder outside
the checkout (so no local credentials file is picked up), with the console opened in
headless Chromium where one is installed. CI installs Chromium and Playwright and sets
SOCIALDESK_REQUIRE_BROWSER=1, so there the browser test cannot be skipped.

Every stack runs in a process group of its own, killed whole when its test ends however it ends,
so no stack outlives the tests, even when pytest itself runs as a background job (which starts
every child with SIGINT ignored).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.local.gateway import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]  # headless Chromium as root in a container
EVENTS = Path(__file__).resolve().parents[2] / "events"


def environment() -> dict[str, str]:
    """This machine's environment without anything that would point the stack at real systems."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("SOCIALDESK_CRM_", "AWS_"))}


def socialdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk.cli", *args], check=False, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=120
    )


@dataclass
class LocalStack:
    process: subprocess.Popen[str]
    url: str
    state_dir: Path
    lines: list[str] = field(default_factory=list)
    _incoming: queue.Queue[str] = field(default_factory=queue.Queue)
    _finished: threading.Event = field(default_factory=threading.Event)

    @classmethod
    @contextmanager
    def running(cls, workdir: Path, *, sigint_ignored: bool = False) -> Iterator[LocalStack]:
        """`socialdesk local` started in `workdir` on a free port, once it says it is running; its process group killed afterwards."""
        port = free_port()
        command = [sys.executable, "-m", "socialdesk.cli", "local", "--port", str(port)]
        if sigint_ignored:  # as a shell starts a background job or a CI step: SIGINT ignored, and inherited through exec
            command = [sys.executable, "-c", IGNORE_SIGINT_THEN_EXEC, *command]
        process = subprocess.Popen(
            command, cwd=workdir, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stack = cls(process=process, url=f"http://127.0.0.1:{port}", state_dir=workdir / ".socialdesk" / "local" / str(port))
            threading.Thread(target=stack.read_output, daemon=True).start()
            stack.wait_for_line("socialdesk is running at")
            yield stack
        finally:
            kill_group(process)

    def stop(self, signum: signal.Signals, timeout: float = 10) -> int:
        """Send `signum` and wait for the stack to exit; its exit code."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._incoming.put(line.rstrip("\n"))
        self._finished.set()

    def wait_for_line(self, text: str, timeout: float = 60) -> str:
        """The first output line holding `text`, waiting for it; after the stack exits, only what it printed before."""
        deadline = time.monotonic() + timeout
        while (found := next((line for line in self.lines if text in line), None)) is None:
            if time.monotonic() > deadline or (self._finished.is_set() and self._incoming.empty()):
                raise AssertionError(f"no line with {text!r} within {timeout} s (exit code {self.process.poll()}): {self.lines}")
            with suppress(queue.Empty):
                self.lines.append(self._incoming.get(timeout=0.2))
        return found

    def state(self) -> list[dict[str, Any]]:
        """The console's conversation rows."""
        with urllib.request.urlopen(self.url + "/console/state.json", timeout=10) as response:
            rows: list[dict[str, Any]] = json.load(response)["conversations"]
            return rows

    def eventually(self, condition: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.state()
            if condition(rows):
                return rows
            time.sleep(0.1)
        raise AssertionError(f"the console never showed what was expected: {rows}")


IGNORE_SIGINT_THEN_EXEC = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.executable, sys.argv[1:])"


def kill_group(process: subprocess.Popen[str]) -> None:
    """Stop the stack's whole process group: politely (SIGINT) if it still runs, then SIGKILL for anything left."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def group_is_gone(process: subprocess.Popen[str]) -> bool:
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Given `socialdesk local` started in a folder of its own, on a free port
    with LocalStack.running(tmp_path_factory.mktemp("ops")) as stack:
        yield stack


def test_local_announces_where_it_runs_and_that_the_backends_are_sandboxes(local_stack: LocalStack) -> None:
    started = local_stack.wait_for_line("socialdesk is running at")
    assert started.endswith(f"socialdesk is running at {local_stack.url} (Zendesk: sandbox · Salesforce: sandbox · AWS: moto)")
    assert f"webhooks: /webhooks/meta, /webhooks/x, /webhooks/zendesk; console: {local_stack.url}/" in local_stack.wait_for_line("webhooks:")


def test_samples_sent_by_name_become_tickets_activities_and_recognised_replies(local_stack: LocalStack, tmp_path: Path) -> None:
    # When an ops engineer fires a WhatsApp message, an X mention and the brand's reply to it
    for name in ("meta-whatsapp-text", "x-mention", "x-brand-reply"):
        sent = socialdesk("send", name, "--url", local_stack.url, cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
        assert "→ 200 {" in sent.stdout
    # Then the console shows both conversations, each with its ticket and activity, and the X one answered
    rows = local_stack.eventually(lambda rows: {"WhatsApp", "X"} <= {row["platform"] for row in rows} and any(row["brand_replies"] for row in rows))
    by_platform = {row["platform"]: row for row in rows}
    assert by_platform["X"]["brand_replies"] == 1
    assert by_platform["WhatsApp"]["customer"] == "Dana Rodríguez"
    assert by_platform["WhatsApp"]["salesforce_activities"] == 1
    assert by_platform["X"]["clock"].startswith("answered after ")
    # And the sandbox state on disk holds both tickets, each with its customer's words
    desk = json.loads((local_stack.state_dir / "sandbox" / "zendesk.json").read_text())
    first_comments = {ticket["comments"][0]["body"] for ticket in desk["tickets"].values()}
    assert {"@AcmeHelp my order #4411 never arrived 📦 — ¿me ayudan?", "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"} <= first_comments
    crm = json.loads((local_stack.state_dir / "sandbox" / "salesforce.json").read_text())
    subjects = [activity["activity"]["subject"] for activity in crm["activities"].values()]
    assert any(subject.startswith("WhatsApp message from Dana Rodríguez") for subject in subjects)
    # And the live output named each step, the sandbox in every sandbox line
    assert "POST /webhooks/meta → 200" in local_stack.wait_for_line("POST /webhooks/meta")
    assert "[sandbox zendesk] ticket #" in local_stack.wait_for_line("created: WhatsApp message from Dana Rodríguez")
    assert local_stack.wait_for_line("[sandbox salesforce] completed task")


def test_send_to_a_stack_that_is_not_running_says_how_to_start_one(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sent = socialdesk("send", "x-mention", "--url", url, cwd=tmp_path)
    assert sent.returncode == 1
    assert sent.stderr.startswith(f"socialdesk send: no local stack answers at {url} (")
    assert sent.stderr.endswith("start one with: socialdesk local\n")
    assert "Traceback" not in sent.stderr


def browser_or_skip() -> str:
    """Debian's chromium, with Playwright to drive it; skipped where either is missing, except in CI."""
    chromium = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None if chromium is None else ""
    if not chromium:
        missing = "Playwright (uv sync --group browser)" if chromium == "" else "chromium (apt-get install -y chromium)"
        if os.environ.get("SOCIALDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SOCIALDESK_REQUIRE_BROWSER=1 but {missing} is missing")
        pytest.skip(f"{missing} is missing")
    return chromium


def whatsapp_follow_up(folder: Path, text: str) -> Path:
    """An edited copy of the WhatsApp sample: another message of the same chat, for `socialdesk send FILE`."""
    event = json.loads((EVENTS / "meta-whatsapp-text.json").read_text(encoding="utf-8"))
    payload = json.loads(event["body"])
    payload["entry"][0]["changes"][0]["value"]["messages"][0].update(id="wamid.browser-follow-up", text={"body": text})
    event["body"] = json.dumps(payload)
    path = folder / "whatsapp-follow-up.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def test_the_console_shows_a_whole_thread_live_in_a_real_browser_without_errors(local_stack: LocalStack, tmp_path: Path) -> None:
    chromium = browser_or_skip()
    from playwright.sync_api import sync_playwright

    # Given a Messenger message, a WhatsApp message and the failed delivery of the brand's answer to it
    for name in ("meta-messenger-message", "meta-whatsapp-text", "meta-whatsapp-status-failed"):
        assert socialdesk("send", name, "--url", local_stack.url, cwd=tmp_path).returncode == 0
    local_stack.eventually(lambda rows: {"Messenger", "WhatsApp"} <= {row["platform"] for row in rows})
    problems: list[str] = []
    with sync_playwright() as browser_driver:
        browser = browser_driver.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 320})
        page.on(
            "console", lambda message: problems.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
        # When the console is opened
        response = page.goto(local_stack.url + "/")
        # Then it loads and lists each conversation with its ticket
        assert response is not None
        assert response.status == 200
        assert page.title() == "socialdesk local"
        messenger = page.locator("tbody tr", has_text="Messenger")
        messenger.wait_for()
        assert messenger.locator("td").nth(4).inner_text().startswith("#")
        # When the operator opens the WhatsApp conversation
        page.evaluate("window.openedOnce = true")
        page.locator("tbody tr", has_text="WhatsApp").click()
        thread = page.locator("#thread")
        # Then its thread shows her message, the failed-delivery warning, her Salesforce activity and the ticket's status
        thread.locator("li.entry.customer", has_text="Mi pedido no ha llegado").wait_for()
        thread.locator("li.entry.warning", has_text="was not delivered").wait_for()
        thread.locator("li.activity", has_text="Mi pedido no ha llegado").first.wait_for()
        assert thread.locator("p.meta").inner_text().startswith("Ticket #")
        page.mouse.wheel(0, 2000)
        page.wait_for_function("window.scrollY > 0")
        first_entry = thread.locator("li.entry.customer", has_text="Mi pedido no ha llegado").first
        in_view = first_entry.evaluate("entry => entry.getBoundingClientRect().top")
        # When she writes again, in markup, while the thread is open
        follow_up = whatsapp_follow_up(tmp_path, '<img src=x onerror="window.pwned = true"> ¿Alguna novedad?')
        assert socialdesk("send", str(follow_up), "--url", local_stack.url, cwd=tmp_path).returncode == 0
        # Then her words appear in the open thread as text, without a reload, where the operator had scrolled to
        thread.locator("li.entry.customer", has_text="¿Alguna novedad?").wait_for(timeout=15_000)
        assert '<img src=x onerror="window.pwned = true">' in thread.inner_text()
        assert thread.locator("img").count() == 0
        assert page.evaluate("window.pwned") is None
        assert page.evaluate("window.openedOnce") is True
        # (where she was reading stays where it was on screen: the page's scroll anchoring may move scrollY by what
        # changed above the thread, e.g. the conversations table's row showing her new message)
        assert first_entry.evaluate("entry => entry.getBoundingClientRect().top") == in_view
        assert "conversation=whatsapp" in page.url
        browser.close()
    assert problems == []


def test_local_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with LocalStack.running(tmp_path) as stack:
        assert stack.stop(signal.SIGINT) == 130
        assert stack.process.stderr is not None
        assert "Traceback" not in stack.process.stderr.read()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_local_started_with_sigint_ignored_still_stops_on_a_signal_and_leaves_nothing_behind(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    # Given socialdesk local started as a script or CI step starts it: SIGINT ignored
    with LocalStack.running(tmp_path, sigint_ignored=True) as stack:
        # Then at start-up it says how to stop it
        pid = stack.process.pid
        assert stack.wait_for_line("stop it with Ctrl+C").endswith(f"stop it with Ctrl+C, or from a script: kill -INT {pid} (or kill -TERM {pid})")
        # When it is sent the signal
        started = time.monotonic()
        exit_code = stack.stop(signum)
        # Then it stops within seconds, says so, exits 128 + the signal, and leaves no process and no open port behind
        assert time.monotonic() - started < 10
        assert exit_code == code
        assert stack.wait_for_line("socialdesk local stopped").endswith(f"socialdesk local stopped ({signum.name})")
        assert group_is_gone(stack.process)
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(stack.url.rsplit(":", 1)[1]))) != 0


def test_demo_replays_the_scenario_and_its_summary_matches_it(tmp_path: Path) -> None:
    demo = socialdesk("demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    summary = demo.stdout[demo.stdout.index("Platform ") :].splitlines()
    conversations = summary[2 : summary.index("")]
    rows = {(line.split()[0], " ".join(line.split()[1:3])): line for line in conversations}
    assert {platform for platform, _ in rows} == {"WhatsApp", "X", "Facebook", "Messenger", "Instagram"}
    assert len(conversations) == 7
    assert " 2     " in rows["WhatsApp", "Dana Rodríguez"]  # the follow-up counted, the duplicate delivery not
    assert "answered after 12 min" in rows["X", "Sam Okafor"]
    assert "waiting 3 h 10 min" in rows["Instagram", "@jo.makes 1"]
    assert "waiting 27 h 30 min" in rows["WhatsApp", "Marco Rossi"]
    assert ("X", "Priya Nair") in rows
    # 6: Ana, the second commenter on the post Lee commented on, is acknowledged too (one per customer in a comment thread)
    assert (
        "13 webhooks sent, 13 accepted · 7 conversations · 7 tickets · 9 Salesforce activities · 2 brand replies recognised · 6 automatic messages"
    ) in summary
    # The automatic messages, as the sandbox platforms sent them, in the order they went
    start = summary.index(next(line for line in summary if line.startswith("What the customers received automatically")))
    sent = summary[start + 4 : start + 10]
    assert [line.split("  ")[0] for line in sent] == ["WhatsApp", "X", "Facebook", "Facebook", "Messenger", "Instagram"]
    whatsapp, x, facebook, ana, messenger, instagram = sent
    assert "public reply    acknowledgement" in ana  # Ana, on Lee's post: one per customer in a comment thread
    # a Spanish acknowledgement, once for Dana's duplicate delivery and her follow-up
    assert "direct message  acknowledgement  es" in whatsapp
    assert "Hola Dana Rodríguez, gracias por escribirnos" in whatsapp
    assert "public reply    acknowledgement  en" in x
    assert "Hi Sam Okafor" in x
    # an FAQ answer (self-service) to the refund question
    assert "public reply    FAQ answer       en" in facebook
    assert "Refunds: you can return any item within 30 days" in facebook
    # the out-of-hours acknowledgement
    assert "direct message  acknowledgement  en" in messenger
    assert "We are closed" in messenger
    # a Korean acknowledgement
    assert "public reply    acknowledgement  ko" in instagram
    assert "@jo.makes님, 문의해 주셔서 감사합니다" in instagram
    assert summary[start + 10] == ""  # and nothing to Marco (outside WhatsApp's window) or Priya (her post does not mention the brand)
    assert "Not answered automatically, as the platforms require: Marco's WhatsApp message" in demo.stdout
    assert "check failed" not in demo.stdout
    # Each went out as the sandbox platforms print it
    assert '[sandbox whatsapp] message to 16505551234: "Hola Dana Rodríguez' in demo.stdout
    # And the agent's reply from the sandbox Zendesk went the deployed way (its webhook, then the sandbox platform), once
    assert "POST /webhooks/zendesk → 200" in demo.stdout
    assert '[sandbox whatsapp] message to 16505551234: "Hola Dana, soy Ana' in demo.stdout
    assert demo.stdout.count("[sandbox whatsapp] message to") == 2
    assert re.search(r"WhatsApp direct message on #4014, id sandbox-whatsapp-\d+: Hola Dana, soy Ana", demo.stdout)
    assert "[sandbox x] reply to 1952000000000000003" not in demo.stdout
    # And the way to keep the stack open works without uv installed (./uvw installs its own)
    assert "(run `./uvw run socialdesk local` to keep it open)" in demo.stdout
