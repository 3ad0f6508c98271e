"""What a wheel carries: the SQL models the package reads at run time install beside it (a `pip install .` without
`-e` has no repository around it), as the templates and the framework mapping do inside it."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


@pytest.mark.parametrize("package, suffixes", [("dbt_like_sql", (".sql",)), ("assurance_pipeline.evidence", (".j2", ".yaml"))])
def test_every_file_read_at_run_time_is_in_the_wheel(package, suffixes):
    folder = ROOT / package.replace(".", "/")
    assert any(fnmatch(package, pattern) for pattern in SETUPTOOLS["packages"]["find"]["include"]), package
    wanted = [str(p.relative_to(folder)) for p in sorted(folder.rglob("*")) if p.suffix in suffixes]
    assert wanted, folder
    packaged = {str(p.relative_to(folder)) for pattern in SETUPTOOLS["package-data"][package] for p in folder.glob(pattern)}
    assert [f for f in wanted if f not in packaged] == []  # globbed as setuptools does: "*.sql" is not "postgres/*.sql"


def test_the_wheel_carries_the_package_and_its_subpackages_but_not_the_tests():
    include = SETUPTOOLS["packages"]["find"]["include"]
    assert all(any(fnmatch(p, pattern) for pattern in include) for p in ("assurance_pipeline", "assurance_pipeline.evidence", "dbt_like_sql"))
    assert not any(fnmatch(p, pattern) for pattern in include for p in ("assurance_pipeline_tests", "assurance_pipeline_tests.drift"))
