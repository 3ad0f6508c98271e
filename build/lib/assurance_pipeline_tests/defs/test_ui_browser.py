"""The cycle in the real Dagster UI: `dagster-webserver` over an instance where a small cycle ran, opened in headless
Chromium (Debian's, which `make test` installs) at 1600 px and read over its DevTools protocol. The decision and
every finding are on the assurance_decision asset page, its tables sit in the metadata column without scrolling
sideways, and a cycle over a partition that names no window is refused with one line. Screenshots go to the test's
temp folder."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from assurance_pipeline_tests.evidence.test_browser import CHROMIUM
from assurance_pipeline_tests.evidence.test_browser import pytestmark as needs_chromium
from assurance_pipeline_tests.small_cycle import CYCLE_FROM, CYCLE_TO, build_rows, prepare

pytestmark = needs_chromium  # skipped, saying why, where Chromium is not installed
websockets = pytest.importorskip("websockets", reason="the UI test drives Chromium with `websockets` (pip install -e '.[dev]')")

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1600, 2000
SKIP_COMMUNITY_MODAL = """(() => { const b = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Skip');
  if (b) b.click(); return !!b; })()"""
# Every scrolling box around a table of the page: scrollWidth > clientWidth means it scrolls sideways.
SIDEWAYS = """[...new Set([...document.querySelectorAll('table')].map(t => { let p = t.parentElement;
  while (p && !/(auto|scroll)/.test(getComputedStyle(p).overflowX)) p = p.parentElement; return p; }).filter(Boolean))]
  .filter(p => p.scrollWidth > p.clientWidth + 1).length"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["data"]


@contextmanager
def process(command: list[str], log: Path, **kwargs):
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """A small cycle recorded in a DAGSTER_HOME, the webserver over it and headless Chromium: (webserver port, page)."""
    root = tmp_path_factory.mktemp("ui")
    store = prepare(root, build_rows(planted=True))
    env = {**os.environ, "DAGSTER_HOME": str(root / "home"), "ASSURANCE_STANDARD": str(store.standard),
           "ASSURANCE_SOURCE": str(store.log), "ASSURANCE_EVIDENCE": str(store.evidence), "PYTHONPATH": str(ROOT)}
    (root / "home").mkdir()
    run = subprocess.run([sys.executable, "-c", "import json, sys; from assurance_pipeline.defs.cycle.run import run_cycle; "
                          f"print(json.dumps(run_cycle(*sys.argv[1:4], {CYCLE_FROM!r}, {CYCLE_TO!r})['decision']))",
                          str(store.standard), str(store.log), str(store.evidence)], env=env, capture_output=True, text=True, check=True)
    decision = json.loads(run.stdout)
    port, debug = free_port(), free_port()
    webserver = [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-m", "assurance_pipeline.definitions"]
    browser = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--remote-debugging-port={debug}", f"--user-data-dir={root / 'chromium-profile'}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"]
    with process(webserver, root / "webserver.log", env=env, cwd=ROOT), process(browser, root / "chromium.log"):
        wait_for(f"http://127.0.0.1:{port}/server_info", 60)
        tabs = json.loads(wait_for(f"http://127.0.0.1:{debug}/json", 30))
        page = next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"]
        yield port, page, decision, store, root


async def _open(page: str, url: str, until_text: str, screenshot: Path, expressions: dict[str, str]) -> dict:
    """Open `url`, skip Dagster's community modal, wait until the page shows `until_text`, screenshot it, evaluate."""
    async with websockets.connect(page, max_size=2**27) as ws:
        ids = iter(range(1, 10_000))

        async def call(method: str, **params):
            my = next(ids)
            await ws.send(json.dumps({"id": my, "method": method, "params": params}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("id") == my:
                    assert "error" not in message, message
                    return message["result"]

        async def evaluate(expression: str):
            return (await call("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")

        await call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not await evaluate(f"document.body && document.body.innerText.includes({json.dumps(until_text)})"):
            assert time.monotonic() < deadline, f"{url} never showed {until_text!r}: {await evaluate('document.body.innerText')!r}"
            await evaluate(SKIP_COMMUNITY_MODAL)
            await asyncio.sleep(0.5)
        await evaluate(SKIP_COMMUNITY_MODAL)
        await asyncio.sleep(1)  # the tables finish laying out
        shot = await call("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return {name: await evaluate(expression) for name, expression in expressions.items()}


def browse(page: str, url: str, until_text: str, screenshot: Path, **expressions: str) -> dict:
    return asyncio.run(_open(page, url, until_text, screenshot, expressions))


def test_the_decision_page_shows_the_decision_every_finding_and_tables_that_fit(ui):
    port, page, decision, store, root = ui
    from assurance_pipeline.evidence.ledger import Ledger

    [entry] = Ledger(store.evidence).find("cycle_decision")
    shot = root / "assurance_decision.png"
    seen = browse(page, f"http://127.0.0.1:{port}/assets/assurance_decision", "decided_by", shot,
                  text="document.body.innerText", tables="document.querySelectorAll('table table').length", sideways=SIDEWAYS)
    assert decision == entry.body["decision"] == "NOT_ASSURED" and decision in seen["text"]
    assert entry.body["findings"] and all(f["id"] in seen["text"] for f in entry.body["findings"])
    assert seen["tables"] >= 1 and seen["sideways"] == 0  # decided_by is a table, and nothing scrolls sideways at 1600 px
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_a_cycle_over_a_name_that_is_no_window_is_refused_with_one_line(ui):
    port, page, _, _, root = ui
    graphql(port, """mutation { addDynamicPartition(repositorySelector: {repositoryLocationName: "assurance_pipeline.definitions",
                     repositoryName: "__repository__"}, partitionsDefName: "cycle_windows", partitionKey: "foo") { __typename } }""")
    launched = graphql(port, """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) {
        __typename ... on LaunchRunSuccess { run { runId status } } } }""", {"p": {
        "selector": {"repositoryLocationName": "assurance_pipeline.definitions", "repositoryName": "__repository__", "pipelineName": "governed_cycle"},
        "mode": "default", "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "foo"}]}, "runConfigData": "{}"}})
    run = launched["launchPipelineExecution"]["run"]
    assert run["status"] == "FAILURE"  # refused as it was submitted: nothing was queued
    line = "refused before any step ran: partition 'foo': not a window (write FROM--TO, e.g. 2026-05-01--2026-06-30, or all)"
    text = browse(page, f"http://127.0.0.1:{port}/runs/{run['runId']}", line, root / "refused-run.png", text="document.body.innerText")["text"]
    assert text.count("RUN_FAILURE") == 1 and text.count(line) == 1  # the run's one event says it all
    assert not any(kind in text for kind in ("STEP_START", "STEP_FAILURE", "RUN_START", "Stack Trace"))
