"""End-to-end fixtures: the real `civicbot serve` on a fresh data folder, and headless Debian Chromium.

The browser is offline by construction too: every request a page makes to anything but this machine is
aborted and fails the test (the widget must never need a CDN).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ON_CI, ROOT

CHROMIUM = os.environ.get("CIVICBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 90
BROWSER_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Server:
    """A running `civicbot serve` process."""

    base_url: str
    port: int
    data_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "civicbot.db"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`civicbot serve` as an agency would run it, on an empty embedded database (created on start-up)."""
    home = tmp_path_factory.mktemp("web")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    env |= {"CIVICBOT_DATA_DIR": str(home / "data"), "XDG_DATA_HOME": str(home / "xdg"), "PYTHONUNBUFFERED": "1"}
    port = _free_port()
    log_path = home / "server.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"civicbot serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"civicbot serve not healthy after {SERVER_START_SECONDS}s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield Server(base, port, home / "data")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; missing Chromium fails under CI and skips elsewhere."""
    if not Path(CHROMIUM).is_file():
        message = f"Chromium not found at {CHROMIUM} (scripts/test installs Debian's `chromium`)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # a shared 2-core CI machine can be slow
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.endswith(".localhost")


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (new sessionStorage, so a new chat session) that may not leave the machine."""
    context = browser.new_context(locale="zh-TW", viewport={"width": 1100, "height": 800})
    blocked: list[str] = []
    errors: list[str] = []

    def guard(route: Any) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(BROWSER_TIMEOUT_MS)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not blocked, f"the page tried to reach the network: {blocked}"
    assert not errors, f"JavaScript errors on the page: {errors}"
