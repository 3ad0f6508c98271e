"""The user-code image's Dockerfile agrees with the Makefile and pyproject.toml: it installs the project as `make`
does, with the k8s extra instead of dev (every package of which `make test` installs too), on the same Python; it
serves the code location pyproject names, as a user that is not root. The .dockerignore keeps an installation's
venv, Dagster home, demo data, evidence stores and keys out of the build, and the entrypoint makes mounted keys private."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import stat
import subprocess

import pytest

from assurance_pipeline_tests.deploy.files import DEPLOY, ROOT, dockerfile_instructions, pip_installs, pyproject

PROJECT_INSTALL = re.compile(r"(?P<editable>-e )?'\.\[(?P<extras>[a-z0-9_,-]+)\]'")


def _project_installs(text: str) -> list[tuple[bool, set[str]]]:
    """(editable, extras) of each `pip install` of the project itself ('.[extra,...]') in the text."""
    found = []
    for target in pip_installs(text):
        if match := PROJECT_INSTALL.search(target):
            found.append((bool(match["editable"]), set(match["extras"].split(","))))
    return found


def _instruction(name: str) -> list[str]:
    return [args for instruction, args in dockerfile_instructions() if instruction == name]


def test_the_image_installs_the_project_as_make_does_with_the_k8s_extra_in_place_of_dev():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    [(make_editable, make_extras)] = [found for found in _project_installs(makefile) if "dev" in found[1]]
    [(image_editable, image_extras)] = _project_installs("\n".join(_instruction("RUN")))
    assert make_extras == {"dev"} and image_extras == {"k8s"}
    assert image_editable == make_editable  # the SQL models are read beside the package, as in the venv `make` makes
    extras = pyproject()["project"]["optional-dependencies"]
    assert "dagster-k8s" in " ".join(extras["k8s"])
    assert set(extras["k8s"]) <= set(extras["dev"])  # `make test` has every package the image adds


def test_the_image_s_python_is_the_project_s():
    [base] = [args.split("=", 1)[1] for args in _instruction("ARG") if args.startswith("PYTHON_IMAGE=")]
    minor = re.fullmatch(r"python:(3\.\d+)-slim", base)[1]
    assert f"<{minor[:2]}{int(minor[2:]) + 1}" in pyproject()["project"]["requires-python"].replace(",", " ")
    assert re.search(rf"^PYTHON \?= python{re.escape(minor)}$", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_the_image_serves_the_project_s_code_location_on_3030_as_a_user_that_is_not_root():
    [cmd] = _instruction("CMD")
    command = json.loads(cmd)
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-p") + 1] == "3030" and _instruction("EXPOSE") == ["3030"]
    assert command[command.index("-m") + 1] == pyproject()["tool"]["dagster"]["module_name"]
    [user] = _instruction("USER")
    assert user.split(":")[0] not in {"0", "root"}
    assert json.loads(_instruction("ENTRYPOINT")[0]) == ["/usr/local/bin/assurance-entrypoint"]


def _matches(path: str, pattern: str) -> bool:
    """Docker's pattern match, near enough here: `**/` matches any number of folders, none included."""
    if pattern.startswith("**/"):
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its folders decides; `!` re-includes."""
    parts = path.split("/")
    ignored = False
    for pattern in patterns:
        if any(_matches("/".join(parts[:i]), pattern.lstrip("!")) for i in range(1, len(parts) + 1)):
            ignored = not pattern.startswith("!")
    return ignored


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".dagster_home/dagster.yaml", "data/demo/decisions.parquet", "data/demo/evidence/ledger.jsonl",
    "assurance_pipeline/.dagster_home/history/runs.db", "stores/evidence/store.json", "keys/alice.key",
    "assurance_pipeline/evidence/leftover.pem", "assurance_pipeline/defs/stray.key",
    "dbt_like_sql/.venv/bin/python", "assurance_pipeline/__pycache__/cli.cpython-311.pyc", "assurance_pipeline_tests/conftest.py",
])
def test_an_installation_s_files_stay_out_of_the_build(path):
    assert _ignored(path, _dockerignore())


def test_what_the_dockerfile_copies_is_sent_to_the_builder():
    patterns = _dockerignore()
    sources = [source for args in _instruction("COPY") for source in shlex.split(args)[:-1]]
    assert "assurance_pipeline" in sources and "deploy/entrypoint.sh" in sources
    for source in sources:
        assert not _ignored(source, patterns), source
    assert not _ignored("assurance_pipeline/evidence/ledger.py", patterns)  # the package named evidence is not a store
    assert not _ignored("dbt_like_sql/outcome_evidence.sql", patterns)


def test_the_entrypoint_copies_each_mounted_key_to_a_private_file_then_runs_the_command(tmp_path):
    mounted, home = tmp_path / "secrets", tmp_path / "home"
    mounted.mkdir(), home.mkdir()
    (mounted / "store.key").write_text("KEY MATERIAL\n")
    (mounted / "store.key").chmod(0o440)  # as Kubernetes mounts a Secret for the pod's group
    env = {**os.environ, "HOME": str(home), "ASSURANCE_SECRETS": str(mounted)}
    done = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "sh", "-c", "echo ran with $HOME"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ran with {home}\n"
    private = home / ".assurance" / "store.key"
    assert private.read_text() == "KEY MATERIAL\n"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(private.parent.stat().st_mode) == 0o700


def test_the_entrypoint_without_mounted_keys_only_runs_the_command(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "ASSURANCE_SECRETS": str(tmp_path / "none")}
    done = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "false"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and not (tmp_path / ".assurance").exists()  # the command's own exit status
