"""The evidence pack's page and the sponsor report in a real browser (Debian's headless Chromium, which `make test`
installs): no console message, the decision, every decision point and every finding in the rendered DOM, and a
screenshot of each under the test's temp dir."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.evidence.ledger import Ledger

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="headless Chromium is not installed, and `make test` could not install it here (it runs `apt-get install -y chromium` as root)",
)
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)")


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless run with its own profile; every console message goes to stderr."""
    command = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-logging=stderr", "--v=0", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def console_messages(run: subprocess.CompletedProcess) -> list[str]:
    """The page's console output (a page without script has none; a CSP violation or a failed load would show)."""
    return [m.group(1) for line in run.stderr.splitlines() if (m := CONSOLE.search(line))]


def rendered(page: Path, tmp_path: Path, screenshot: str) -> str:
    """The DOM after load, having checked the console is silent; a full-height screenshot saved beside it."""
    run = chromium(page, tmp_path, "--dump-dom")
    assert console_messages(run) == []
    shot = tmp_path / screenshot
    chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1400,3000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    return run.stdout


def test_the_console_check_catches_a_page_that_logs(tmp_path):
    page = tmp_path / "noisy.html"
    page.write_text('<p>x</p><script>console.error("boom"); missingFunction();</script>', encoding="utf-8")
    messages = console_messages(chromium(page, tmp_path, "--dump-dom"))
    assert any("boom" in m for m in messages) and any("missingFunction" in m for m in messages)


def test_the_pack_page_renders_the_decision_each_point_and_each_finding(recorded_store, tmp_path):
    pack = next(p for p in (recorded_store / "packs").iterdir() if not p.name.startswith("."))
    result = json.loads((pack / "result.json").read_text(encoding="utf-8"))
    dom = rendered(pack / "index.html", tmp_path, "evidence-pack.png")
    assert f'id="decision-value">{result["decision"].replace("_", " ")}</span>' in dom
    for p in result["decision_points"]:
        assert f'id="light-{p["id"]}"' in dom and f"<td>{p['id']}</td>" in dom
    for f in result["findings"]:
        assert f'<tr id="open-{f["id"]}">' in dom and f'id="finding-{f["id"]}"' in dom
    assert dom.count("<svg") >= 3  # deviation chart, decisions over time, effect bars


def test_the_sponsor_report_renders_its_cycles_findings_and_checkpoint(store, tmp_path):
    [cycle] = Ledger(store).find("cycle_decision")
    out = tmp_path / "report.html"
    day = cycle.at[:10]
    assert main(["report", "--evidence", str(store), "--from", day, "--to", day, "--out", str(out)]) == 0
    dom = rendered(out, tmp_path, "sponsor-report.png")
    assert f'id="cycle-{cycle.body["cycle_id"]}"' in dom and cycle.body["decision"].replace("_", " ") in dom
    assert all(f'id="opened-{f["id"]}"' in dom for f in cycle.body["findings"])
    assert 'id="checkpoint-text"' in dom
