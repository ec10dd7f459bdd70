"""Shared by the end-to-end tests: the one stand-in for a hosted teacher LLM (core's fake
OpenAI server, a real local HTTP server, rating each file by a fixed rule), and Debian's
headless Chromium driven over the DevTools protocol, the way a person clicks."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from codekiln_core.fake_openai import fake_openai_server

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

#: Where the browser tests leave their screenshots, for people to look at.
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".codekiln" / "browser-test"
#: Debian's headless Chromium, flags as CI runs it: no sandbox (root in a container), nothing
#: fetched in the background, a fresh profile per browser.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage", "--window-size=1680,1050",
                  "--remote-debugging-port=0")


@contextmanager
def teacher_server(rate: Callable[[str], int]) -> Iterator[str]:
    """Serve ``rate(prompt)`` as a Seed-Coder-rubric answer; yields the base URL."""
    def rated(body: dict[str, Any], n: int) -> list[str]:
        rating = rate(body["messages"][-1]["content"])
        return [f"Explanation: judged by docstrings and comments.\nRating: [[{rating}]]"] * n

    with fake_openai_server(reply=rated) as fake:
        yield f"{fake.url}/v1"


def documented_rating(prompt: str) -> int:
    """Stand-in rubric: documented code rates high, bare code low (1..10)."""
    return min(10, 1 + prompt.count('"""') + prompt.count("# "))


@pytest.fixture
def documented_teacher_url() -> Iterator[str]:
    """A teacher endpoint rating by ``documented_rating``: what the e2e chains label with."""
    with teacher_server(documented_rating) as url:
        yield url


# ---- headless Chromium over the DevTools protocol ---------------------------------------------


def chromium_binary() -> str:
    """The browser, or a skip (a failure under CI, whose .ci/run installs it)."""
    import shutil

    found = os.environ.get("CODEKILN_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Debian's headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it in CI")
    pytest.skip(reason)


class Tab:
    """One page of the browser, over its own DevTools websocket."""

    def __init__(self, socket: ClientConnection, target_id: str) -> None:
        self.socket = socket
        self.target_id = target_id
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.last_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return dict(message["result"])

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    @property
    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def wait_text(self, expected: tuple[str, ...], timeout_s: float = 120) -> str:
        """Wait until the rendered text shows every expected string; return the text."""
        deadline = time.monotonic() + timeout_s
        text = self.text
        while not all(item in text for item in expected):
            missing = [item for item in expected if item not in text]
            assert time.monotonic() < deadline, \
                f"{missing} never showed on {self.evaluate('location.href')}:\n{text[:3000]}"
            time.sleep(0.5)
            text = self.text
        return text

    def wait_for(self, condition: str, what: str, timeout_s: float = 60) -> None:
        """Poll a JavaScript condition on the page until it holds."""
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(condition):
            assert time.monotonic() < deadline, f"{what} never showed on the page"
            time.sleep(0.5)

    def click(self, element: str, what: str) -> dict[str, Any]:
        """A real mouse click in the middle of the element the JavaScript expression finds
        (scrolled into view first); returns its ``href`` and ``target``."""
        self.wait_for(f"!!({element})", what)
        self.evaluate(f"({element}).scrollIntoView({{block: 'center'}})")
        # a person clicks what they see: nothing (a dialog, a panel) may cover its middle
        self.wait_for(f"""(() => {{ const e = {element}; const r = e.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return !!top && (e === top || e.contains(top)); }})()""",
                      f"{what}, uncovered")
        found = self.evaluate(f"""(() => {{ const e = {element};
            const r = e.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2,
                     href: e.getAttribute('href'), target: e.getAttribute('target')}}; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=found["x"], y=found["y"],
                      button="left", clickCount=1)
        return dict(found)

    def screenshot(self, name: str) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        print(f"screenshot: {path}")
        return path


class Browser:
    """One headless Chromium; its tabs are driven one at a time, the newest first."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.tabs: list[Tab] = []

    @property
    def page(self) -> Tab:
        return self.tabs[-1]

    def targets(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                    timeout=10) as answer:
            return [t for t in json.loads(answer.read()) if t["type"] == "page"]

    def attach(self, target: dict[str, Any]) -> Tab:
        from websockets.sync.client import connect

        socket = connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        self.tabs.append(Tab(socket, target["id"]))
        return self.page

    def open(self, url: str, expected: tuple[str, ...]) -> str:
        """Type ``url`` into the current tab (only to start a walk) and wait for its text."""
        self.page.call("Page.navigate", url="about:blank")
        self.page.call("Page.navigate", url=url)
        return self.page.wait_text(expected)

    def follow(self, link: str, expected: tuple[str, ...], what: str) -> str:
        """Click the link the JavaScript expression finds, as a person does; a link that
        opens a new tab is followed there. Waits until the page shows ``expected``."""
        before = {t["id"] for t in self.targets()}
        clicked = self.page.click(link, what)
        if clicked.get("target") == "_blank":
            deadline = time.monotonic() + 60
            while not (new := [t for t in self.targets() if t["id"] not in before]):
                assert time.monotonic() < deadline, f"{what}: no tab opened"
                time.sleep(0.2)
            self.attach(new[0])
        return self.page.wait_text(expected)

    def close_tab(self) -> None:
        """Close the current tab and go back to the one it was opened from."""
        tab = self.tabs.pop()
        tab.socket.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{tab.target_id}",
                                    timeout=10):
            pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium in its own process group, one per test module."""
    binary = chromium_binary()
    root = tmp_path_factory.mktemp("chromium")
    profile = root / "profile"
    with (root / "chromium.log").open("wb") as log:
        process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                    "about:blank"], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            browser = Browser(_devtools_port(profile, process))
            browser.attach(browser.targets()[0])
            yield browser
            for tab in browser.tabs:
                tab.socket.close()
        finally:
            _stop_group(process)


def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """Chromium writes its DevTools port into the profile once it listens."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not active.is_file() or not active.read_text().strip():
        assert process.poll() is None, f"chromium exited with {process.returncode}"
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        time.sleep(0.2)
    return active.read_text().split()[0]


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()
