"""A user's installation for the retention tests: a persistent DAGSTER_HOME and a private TMPDIR, driven through the
`assurance` command as a user runs it, and a byte search of every file it leaves."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ASSURANCE = Path(sys.executable).with_name("assurance")


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*")) if p.is_file()]


def holding(needle: str | bytes, *roots: Path) -> list[Path]:
    """Every file under `roots` whose bytes contain `needle` (SQLite databases and pickles included, as bytes)."""
    raw = needle if isinstance(needle, bytes) else needle.encode("utf-8")
    return [p for p in files_under(*roots) if raw in p.read_bytes()]


class Installation:
    """A persistent Dagster instance (DAGSTER_HOME) and a private TMPDIR, driven through the `assurance` command."""

    def __init__(self, root: Path) -> None:
        self.home, self.tmp = root / "dagster_home", root / "tmp"
        self.home.mkdir()
        self.tmp.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ASSURANCE_")}
        self.key = "KEY-" + uuid.uuid4().hex + uuid.uuid4().hex
        self.env.update(DAGSTER_HOME=str(self.home), TMPDIR=str(self.tmp), ASSURANCE_FINGERPRINT_KEY=self.key,
                        ASSURANCE_STORE_KEY_FILE=str(root / "keys" / "store.key"))  # the checkpoint key: not in the home folder

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(ASSURANCE), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
