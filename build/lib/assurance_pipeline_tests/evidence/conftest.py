"""A real evidence store, made once by a small demo: authorization, sampling plan and one cycle decision."""

import shutil
from pathlib import Path

import pytest

from assurance_pipeline.cli import main


@pytest.fixture(scope="session")
def recorded_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--dir", str(root), "--rows", "3000", "--json"]) == 0
    return root / "evidence"


@pytest.fixture
def store(recorded_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "evidence"
    shutil.copytree(recorded_store, copy)
    return copy
