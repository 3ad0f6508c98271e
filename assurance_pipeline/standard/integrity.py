"""Re-confirm the standard: the sha256 of every file against the sign-off in authorization.yaml and the ledger.

A standard is intact when its files hash to exactly what was authorized, and that authorization was
recorded in the evidence ledger by `assurance authorize` (a hand-written authorization.yaml is caught).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.evidence.ledger import Ledger, sha256_hex
from assurance_pipeline.standard.drafts import refuse_drafts
from assurance_pipeline.standard.limits import LimitError, check_inside, read_bytes_bounded
from assurance_pipeline.standard.loading import load_standard, read_yaml, standard_files

AUTHORIZATION_FILE = "authorization.yaml"


class Authorization(BaseModel):
    """The sign-off: who authorized the standard, when, and the hash of every file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    standard: str
    version: str
    authorized_by: str
    authorized_at: str
    note: str = ""
    files: dict[str, str]
    sha256: str


@dataclass(frozen=True)
class IntegrityReport:
    intact: bool
    sha256: str
    authorized_sha256: str | None
    authorized_by: str | None = None
    authorized_at: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    """sha256 of every file the authorization covers (`standard_files`), keyed by its path relative to the standard."""
    return {name: sha256_hex(raw) for name, raw in files.items()}


def standard_digest(hashes: dict[str, str]) -> str:
    """One digest over all file hashes: sha256 of sorted `path  hash` lines (as sha256sum prints them)."""
    return sha256_hex("".join(f"{h}  {p}\n" for p, h in sorted(hashes.items())))


def read_authorization(root: Path) -> Authorization | None:
    path = root / AUTHORIZATION_FILE
    if not path.is_file():
        return None
    try:
        check_inside(path, root)
        data = read_yaml(path, read_bytes_bounded(path))  # the standard's own strict reader: a duplicate key or an alias is refused here too
    except LimitError as err:
        raise AssuranceError(f"{path}: {err}: not a valid authorization") from None
    except OSError as err:
        raise AssuranceError(f"{path}: cannot be read ({err.strerror or err}): not a valid authorization") from None
    except AssuranceError as err:
        raise AssuranceError(f"{err}: not a valid authorization") from None
    try:
        return Authorization.model_validate(data)
    except ValidationError as err:
        raise AssuranceError(f"{path}: not a valid authorization ({str(err).splitlines()[0]})") from None


def check_integrity(root: Path, ledger: Ledger, files: dict[str, bytes] | None = None) -> IntegrityReport:
    """Compare the standard as it is now (`files`, read by `standard_files`) with what was authorized; list every
    difference."""
    hashes = file_hashes(standard_files(root) if files is None else files)
    digest = standard_digest(hashes)
    try:
        auth = read_authorization(root)
    except AssuranceError as err:
        return IntegrityReport(False, digest, None, problems=[str(err)])
    if auth is None:
        return IntegrityReport(False, digest, None, problems=[f"{AUTHORIZATION_FILE} is missing: the standard was never authorized"])
    problems = [*_file_changes(auth.files, hashes)]
    if standard_digest(auth.files) != auth.sha256:
        problems.append(f"{AUTHORIZATION_FILE} was edited: its sha256 does not match its own file list")
    if not ledger.find("authorization", **auth.model_dump()):  # every field: a forged signer or date is caught too
        problems.append(f"{AUTHORIZATION_FILE}: this authorization (sha256 {auth.sha256[:12]}…, by {auth.authorized_by}) "
                        "is not recorded in the evidence ledger")
    return IntegrityReport(not problems, digest, auth.sha256, auth.authorized_by, auth.authorized_at, problems)


def _file_changes(authorized: dict[str, str], current: dict[str, str]) -> list[str]:
    changes = [f"{p} was added after authorization" for p in sorted(current.keys() - authorized.keys())]
    changes += [f"{p} was removed after authorization" for p in sorted(authorized.keys() - current.keys())]
    changes += [f"{p} was changed after authorization" for p in sorted(authorized.keys() & current.keys()) if authorized[p] != current[p]]
    return changes


def authorize(root: Path, by: str, note: str, ledger: Ledger) -> Authorization:
    """Sign off the standard as it is now: refuse an invalid one, record it in the ledger, then write the file."""
    if not by.strip():
        raise AssuranceError("--by: the name of the person authorizing must not be empty")
    from assurance_pipeline.drift.baseline import read_baseline  # drift builds on the standard, not the reverse

    files = standard_files(root)  # read once: the bytes signed off are the bytes checked
    standard = load_standard(root, files)
    refuse_drafts(standard, "authorized")
    read_baseline(root, files)  # a baseline a cycle could not use is refused here, not signed off
    hashes = file_hashes(files)
    auth = Authorization(
        standard=standard.header.name,
        version=standard.header.version,
        authorized_by=by,
        authorized_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        note=note,
        files=hashes,
        sha256=standard_digest(hashes),
    )
    ledger.append("authorization", auth.model_dump())
    _write_atomically(root / AUTHORIZATION_FILE, yaml.safe_dump(auth.model_dump(), sort_keys=False))
    return auth


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
