"""What a third party checks of the evidence log: the store's own checkpoints against its entries, a checkpoint
someone kept (consistency: the log still extends it), witnesses' cosignatures (`witnesses/<key ID>/`), and inclusion
proofs of single entries. Each check returns the first problem in one line, or None.

A witness (an auditor, the sponsor) keeps its own state: the last checkpoint it cosigned and the store's verifier
key as it first saw it. It cosigns a newer checkpoint only if a consistency proof from its last one holds, so a store
whose history was rewritten after a witness cosigned it can never be cosigned again, and `verify` names the fork.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assurance_pipeline.errors import AssuranceError, EvidenceStoreError
from assurance_pipeline.evidence.checkpoints import CHECKPOINTS_DIR, STORE_FILE, LogIdentity, checkpoint_paths, read_identity
from assurance_pipeline.evidence.merkle import ProofError, consistency_proof, inclusion_proof, leaf_hash, prefix_roots, verify_consistency
from assurance_pipeline.evidence.notes import COSIGNATURE_V1, Checkpoint, NoteError, Verifier, cosign, cosigned_at, open_note, parse_checkpoint, parse_vkey, vkey

WITNESSES_DIR = "witnesses"
WITNESS_KEY_FILE = "witness.vkey"
MAX_CHECKPOINT_BYTES = 1 << 16
_NOTE_NAME = re.compile(r"^\d{12}\.note$")


@dataclass(frozen=True)
class LogView:
    """The ledger as the tree sees it: each entry's bytes and the root of every prefix."""

    lines: list[bytes]
    roots: list[bytes]

    @classmethod
    def of(cls, lines: list[bytes]) -> LogView:
        return cls(lines, prefix_roots([leaf_hash(line) for line in lines]))

    @property
    def size(self) -> int:
        return len(self.lines)


@dataclass(frozen=True)
class Cosigned:
    witness: str
    size: int
    at: int  # POSIX seconds


@dataclass(frozen=True)
class LogReport:
    problem: str | None
    interrupted: bool = False
    checkpoint: int | None = None  # the size the latest checkpoint covers
    witnesses: tuple[Cosigned, ...] = ()


def check_log(folder: Path, view: LogView) -> LogReport:
    """The store's checkpoints and witnesses' cosignatures against the entries the ledger holds now."""
    try:
        log = read_identity(folder)
    except NoteError as err:
        return LogReport(str(err))
    if log is None:
        return LogReport(None if view.size == 0 else f"{STORE_FILE} is missing: nothing says which key signs this store's checkpoints")
    latest = 0
    for path in checkpoint_paths(folder):
        problem = _checkpoint_problem(path, log, view)
        if problem:
            return LogReport(f"{CHECKPOINTS_DIR}/{path.name}: {problem}")
        latest = max(latest, int(path.name[:12]))
    witnesses = []
    for directory in _witness_dirs(folder):
        problem, cosigned = _witness_problem(directory, log, view)
        if problem:
            return LogReport(f"{WITNESSES_DIR}/{directory.name}: {problem}", checkpoint=latest)
        witnesses += [cosigned] if cosigned else []
    if latest < view.size:
        uncovered = f"line {latest + 1}: not covered by any signed checkpoint"
        if latest == view.size - 1:  # only the last entry: the write of its checkpoint was cut short, or it was forged
            return LogReport(f"{uncovered}: its checkpoint's write was interrupted, or it was appended without the store's key",
                             interrupted=True, checkpoint=latest, witnesses=tuple(witnesses))
        return LogReport(f"{uncovered} (entries {latest + 1} to {view.size} were appended without the store's key)", checkpoint=latest)
    return LogReport(None, checkpoint=latest, witnesses=tuple(witnesses))


def _checkpoint_problem(path: Path, log: LogIdentity, view: LogView) -> str | None:
    if not _NOTE_NAME.match(path.name) or not path.is_file():
        return "not a checkpoint the store wrote"
    try:
        checkpoint = _open_checkpoint(_read(path), log)
    except NoteError as err:
        return str(err)
    if checkpoint.size != int(path.name[:12]):
        return f"holds size {checkpoint.size}, not the size its name says"
    return _against_log(checkpoint, view, "this checkpoint")


def _open_checkpoint(note: bytes, log: LogIdentity) -> Checkpoint:
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("not UTF-8 text") from None
    opened, _ = open_note(text, log.verifier)
    checkpoint = parse_checkpoint(opened)
    if checkpoint.origin != log.origin:
        raise NoteError(f"a checkpoint of another log ({checkpoint.origin})")
    return checkpoint


def _against_log(checkpoint: Checkpoint, view: LogView, what: str) -> str | None:
    if checkpoint.size > view.size:
        return (f"{what} covers {checkpoint.size} entries, the ledger holds {view.size}: "
                "entries were removed (the log was truncated or rolled back)")
    if view.roots[checkpoint.size] != checkpoint.root:
        return f"the ledger's first {checkpoint.size} entries no longer hash to the root {what} signed: its history was rewritten"
    return None


def check_held_checkpoint(folder: Path, view: LogView, note: bytes) -> str | None:
    """A checkpoint someone kept: signed by this store, and the log still extends it (RFC 9162 consistency proof,
    verified as an outside verifier would, from the kept root alone)."""
    log = read_identity(folder)
    if log is None:
        return f"{STORE_FILE} is missing: the checkpoint cannot be checked against this store's key"
    try:
        checkpoint = _open_checkpoint(note, log)
    except NoteError as err:
        return f"the checkpoint given is not this store's ({err})"
    if checkpoint.size > view.size:
        return _against_log(checkpoint, view, "the checkpoint given")
    if checkpoint.size == 0:
        return None
    try:
        proof = consistency_proof([leaf_hash(line) for line in view.lines], checkpoint.size)
        verify_consistency(checkpoint.size, view.size, proof, checkpoint.root, view.roots[view.size])
    except ProofError as err:
        return f"the log does not extend the checkpoint given (size {checkpoint.size}): {err}"
    return None


def _witness_dirs(folder: Path) -> list[Path]:
    directory = Path(folder) / WITNESSES_DIR
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".")) if directory.is_dir() else []


def _witness_problem(directory: Path, log: LogIdentity, view: LogView) -> tuple[str | None, Cosigned | None]:
    if not directory.is_dir():
        return "not a witness's folder", None
    try:
        witness = parse_vkey(_read(directory / WITNESS_KEY_FILE).decode("utf-8", "replace"))
    except (NoteError, OSError) as err:
        return f"{WITNESS_KEY_FILE}: not a witness's verifier key ({getattr(err, 'strerror', None) or err})", None
    if witness.kind != COSIGNATURE_V1 or directory.name != witness.id.hex():
        return f"{WITNESS_KEY_FILE}: not the cosignature key this folder is named for", None
    latest = None
    for path in sorted(p for p in directory.iterdir() if p.name != WITNESS_KEY_FILE and not p.name.startswith(".")):
        try:
            checkpoint, at = _cosigned_checkpoint(_read(path), log, witness)
        except NoteError as err:
            return f"{path.name}: {err}", None
        except OSError as err:
            return f"{path.name}: not a cosigned checkpoint ({err.strerror or err})", None
        problem = _against_log(checkpoint, view, f"witness {witness.name} cosigned")
        if problem:
            return f"{path.name}: the log forks from what {witness.name} cosigned: {problem}", None
        if latest is None or checkpoint.size >= latest.size:
            latest = Cosigned(witness.name, checkpoint.size, at)
    return None, latest


def _cosigned_checkpoint(note: bytes, log: LogIdentity, witness: Verifier) -> tuple[Checkpoint, int]:
    checkpoint = _open_checkpoint(note, log)
    _, signatures = open_note(note.decode("utf-8"), log.verifier)
    at = cosigned_at(checkpoint.text(), signatures, witness)
    if at is None:
        raise NoteError(f"carries no cosignature of {witness.name}")
    return checkpoint, at


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_CHECKPOINT_BYTES + 1)
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise NoteError("too large for a checkpoint")
    return data


def identity_or_fail(folder: Path) -> LogIdentity:
    """The store's identity, for commands that need one: one line if it is missing or not valid."""
    try:
        log = read_identity(folder)
    except NoteError as err:
        raise EvidenceStoreError(f"evidence store {folder}: {err}; run `assurance verify`") from None
    if log is None:
        raise EvidenceStoreError(f"evidence store {folder}: no checkpoint yet ({STORE_FILE} is missing)")
    return log


# --- proofs and cosigning ----------------------------------------------------------------------------------------


def latest_note(folder: Path) -> bytes:
    paths = checkpoint_paths(folder)
    if not paths:
        raise EvidenceStoreError(f"evidence store {folder}: no checkpoint yet (nothing was recorded)")
    return _read(paths[-1])


def inclusion_document(folder: Path, view: LogView, seq: int) -> dict:
    """What an auditor needs to check that entry `seq` is in the log, with nothing but the checkpoint: the entry's
    bytes, its index, the tree size, the RFC 9162 inclusion path and the signed checkpoint."""
    note = latest_note(folder)
    log = identity_or_fail(folder)
    try:
        checkpoint = _open_checkpoint(note, log)
    except NoteError as err:
        raise EvidenceStoreError(f"evidence store {folder}: its latest checkpoint is not valid ({err}); run `assurance verify`") from None
    if not 1 <= seq <= checkpoint.size:
        raise AssuranceError(f"prove {seq}: the latest checkpoint covers entries 1 to {checkpoint.size}")
    leaves = [leaf_hash(line) for line in view.lines[: checkpoint.size]]
    return {
        "entry": view.lines[seq - 1].decode("utf-8"),
        "leaf_index": seq - 1,
        "tree_size": checkpoint.size,
        "leaf_hash": base64.b64encode(leaves[seq - 1]).decode(),
        "inclusion_path": [base64.b64encode(h).decode() for h in inclusion_proof(leaves, seq - 1)],
        "checkpoint": note.decode("utf-8"),
        "checkpoint_key": vkey(log.origin, log.verifier.kind, log.verifier.public_key),
        "algorithm": "RFC 9162 2.1.3.2: leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right)",
    }


@dataclass(frozen=True)
class WitnessState:
    """What a witness keeps between runs (its --state file): the log it watches and what it last cosigned."""

    checkpoint_key: str
    checkpoint: str  # the note it last cosigned

    @classmethod
    def read(cls, path: Path) -> WitnessState | None:
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["checkpoint_key"]), str(data["checkpoint"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise AssuranceError(f"--state {path}: not a witness state file as `assurance witness` writes it") from None

    def write(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps({"checkpoint_key": self.checkpoint_key, "checkpoint": self.checkpoint}, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def witness(folder: Path, view: LogView, key: Ed25519PrivateKey, name: str, state_path: Path) -> tuple[Checkpoint, int | None]:
    """Cosign the store's latest checkpoint if the log is consistent with what this witness cosigned last time;
    returns the checkpoint and the size it cosigned before. Raises AssuranceError (exit 1 via `Fork`) on a fork."""
    log = identity_or_fail(folder)
    log_key = vkey(log.origin, log.verifier.kind, log.verifier.public_key)
    state = WitnessState.read(state_path)
    if state is not None and state.checkpoint_key != log_key:
        raise Fork(f"the store's checkpoint key is not the one you witnessed before ({state.checkpoint_key.split('+')[1]}): "
                   "its history cannot be shown to extend what you cosigned")
    note = latest_note(folder)
    try:
        checkpoint = _open_checkpoint(note, log)
    except NoteError as err:
        raise Fork(f"the store's latest checkpoint is not valid ({err})") from None
    problem = _against_log(checkpoint, view, "its latest checkpoint")
    if problem:
        raise Fork(f"the store does not match its own latest checkpoint: {problem}")
    before = None
    if state is not None:
        try:
            previous = parse_checkpoint(open_note(state.checkpoint, log.verifier)[0])
        except NoteError as err:
            raise AssuranceError(f"--state {state_path}: the checkpoint it holds does not verify ({err}); it is not a state this store gave") from None
        before = previous.size
        if previous.size > checkpoint.size:
            raise Fork(f"the log holds {checkpoint.size} entries, you cosigned {previous.size}: it was truncated or rolled back")
        try:
            proof = consistency_proof([leaf_hash(line) for line in view.lines[: checkpoint.size]], previous.size) if previous.size else []
            verify_consistency(previous.size, checkpoint.size, proof, previous.root, checkpoint.root)
        except ProofError as err:
            raise Fork(f"the log forks from what you cosigned at size {previous.size}: {err}") from None
    line = cosign(checkpoint.text(), name, key, int(time.time()))
    witness_key = Verifier(name, COSIGNATURE_V1, key.public_key())
    directory = Path(folder) / WITNESSES_DIR / witness_key.id.hex()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / WITNESS_KEY_FILE).write_text(vkey(name, COSIGNATURE_V1, key.public_key()) + "\n", encoding="utf-8")
        cosigned = note.decode("utf-8") + line
        target = directory / f"{checkpoint.size:012d}.note"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(cosigned, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {folder}: cannot record the cosignature ({err.strerror or err})") from None
    WitnessState(log_key, note.decode("utf-8")).write(state_path)
    return checkpoint, before


class Fork(AssuranceError):
    """The log is not consistent with what was seen before (exit 1, as verify's mismatch)."""

    exit_code = 1
