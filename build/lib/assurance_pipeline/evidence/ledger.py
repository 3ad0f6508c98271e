"""Append-only, hash-chained evidence ledger (``ledger.jsonl``).

Each line is one JSON entry carrying the hash of the entry before it, so an edited,
removed or reordered line is found by ``verify()``. Nothing is rewritten, only appended.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from pydantic import BaseModel, ConfigDict, Field

from assurance_pipeline.errors import EvidenceStoreError

if TYPE_CHECKING:
    from assurance_pipeline.evidence.signing import Signer

GENESIS = "0" * 64
LEDGER_FILE = "ledger.jsonl"
LOCK_FILE = "ledger.lock"
_HEX64 = r"^[0-9a-f]{64}$"


class LedgerError(EvidenceStoreError):
    """The ledger cannot be read or extended safely (a bad line or a broken tail)."""


INTERRUPTED = ": the last line is incomplete: a write was interrupted"


def canonical_json(obj: Any) -> str:
    """One fixed text per value (sorted keys, no spaces) so that hashes are reproducible."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes | str) -> str:
    """SHA-256 hex digest; text is hashed as UTF-8."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _entry_hash(seq: int, at: str, kind: str, body: dict, prev: str) -> str:
    return sha256_hex(canonical_json({"seq": seq, "at": at, "kind": kind, "body": body, "prev": prev}))


class Signature(BaseModel):
    """A person's Ed25519 signature of an entry's hash (see `signing`); checked by `verify` against the key the
    authorized standard registered for `by` at that point of the ledger."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    by: str
    public_key: str
    value: str


class LedgerEntry(BaseModel):
    """One line of the ledger; ``hash`` covers every field but the signature, which signs the hash; ``prev`` links
    the chain."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    seq: int = Field(ge=1)
    at: str
    kind: str
    body: dict
    prev: str = Field(pattern=_HEX64)
    hash: str = Field(pattern=_HEX64)
    signature: Signature | None = None

    def line(self) -> str:
        """The entry as the ledger writes it: one canonical JSON text (an unsigned entry has no signature key)."""
        return canonical_json(self.model_dump(exclude_none=True))

    def computed_hash(self) -> str:
        """The hash this entry's content should carry; differs from ``hash`` if edited."""
        return _entry_hash(self.seq, self.at, self.kind, self.body, self.prev)


@dataclass
class VerifyReport:
    """Outcome of ``Ledger.verify``; ``entries``/``head`` describe the intact prefix."""

    intact: bool
    entries: int
    head: str | None
    problem: str | None
    interrupted: bool = False  # the only problem is a torn last line: a failed write, not an edit
    checked: list[tuple[LedgerEntry, bytes]] = field(default_factory=list)  # the intact prefix: each entry and its line


class _BadLine(Exception):
    """Why one line is not a valid entry; str() is the text that follows 'line N'."""


class _TornLine(_BadLine):
    """The last line has no newline: the write of an entry was cut short."""


def _parse_line(raw: bytes, terminated: bool) -> LedgerEntry:
    if not terminated:
        raise _TornLine(INTERRUPTED)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadLine(": not UTF-8 text") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _BadLine(": not valid JSON") from None
    try:
        entry = LedgerEntry.model_validate(data)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        fields = sorted({".".join(map(str, e["loc"])) or "entry" for e in exc.errors()})
        raise _BadLine(f": not a ledger entry (bad {', '.join(fields)})") from None
    if entry.computed_hash() != entry.hash:
        raise _BadLine(f" (seq {entry.seq}): hash does not match its content (edited?)")
    if text != entry.line():  # the hash covers the values; this covers every byte
        raise _BadLine(f" (seq {entry.seq}): not written the way the ledger writes its lines (edited?)")
    return entry


class Ledger:
    """The ledger of one evidence folder; safe to append to from several processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LEDGER_FILE

    def _check_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise EvidenceStoreError(f"evidence store {self.folder}: not a folder")

    def _lines(self) -> list[tuple[int, bytes, bool]]:
        """(line number, raw bytes, newline-terminated) for every line in the file."""
        self._check_folder()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as err:
            raise EvidenceStoreError(f"evidence store {self.folder}: cannot read {LEDGER_FILE} ({err.strerror or err})") from None
        parts = data.split(b"\n")
        tail = parts.pop()  # b"" when the file ends with a newline
        lines = [(n, raw, True) for n, raw in enumerate(parts, start=1)]
        if tail:
            lines.append((len(parts) + 1, tail, False))
        return lines

    def raw_lines(self) -> list[bytes]:
        """Each complete line's bytes, without its newline: the leaves of the log's Merkle tree."""
        return [raw for _, raw, terminated in self._lines() if terminated]

    def entries(self) -> Iterator[LedgerEntry]:
        """Every entry in file order; raises LedgerError naming the first invalid line."""
        for n, raw, terminated in self._lines():
            try:
                yield _parse_line(raw, terminated)
            except _BadLine as bad:
                raise LedgerError(f"evidence store {self.folder}: line {n}{bad}") from None

    def head(self) -> LedgerEntry | None:
        """The last entry, or None for an empty ledger."""
        last = None
        for last in self.entries():
            pass
        return last

    def find(self, kind: str, **body_match: Any) -> list[LedgerEntry]:
        """Entries of ``kind`` whose body has all the given key/values."""
        return [
            e for e in self.entries()
            if e.kind == kind and all(k in e.body and e.body[k] == v for k, v in body_match.items())
        ]

    def append(self, kind: str, body: dict, signer: Signer | None = None) -> LedgerEntry:
        """Add one entry under an exclusive lock so concurrent writers never fork the chain; `signer` signs its hash
        (known only once the lock is held: it covers the place in the chain). The store then signs a checkpoint of
        the log as it now is (`checkpoints`)."""
        from assurance_pipeline.evidence.checkpoints import identity, store_key, write_checkpoint

        if not isinstance(body, dict):
            raise TypeError(f"ledger body must be a dict, not {type(body).__name__}")
        body = json.loads(canonical_json(body))  # TypeError if not serializable; normalise keys
        self._check_folder()
        key = store_key()  # before anything is written: an entry is never appended without its checkpoint key
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.folder / LOCK_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as err:
            raise EvidenceStoreError(f"evidence store {self.folder}: cannot write to it ({err.strerror or err})") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the descriptor is closed
            log = identity(self.folder, key)
            lines = self._lines()
            entry = self._next_entry(kind, body, lines)
            if signer is not None:
                entry = entry.model_copy(update={"signature": Signature(**signer.sign(entry.hash))})
            self._write_line((entry.line() + "\n").encode("utf-8"))
            write_checkpoint(self.folder, [raw for _, raw, _ in lines] + [entry.line().encode("utf-8")], log, key)
        finally:
            os.close(lock)
        return entry

    def _next_entry(self, kind: str, body: dict, lines: list[tuple[int, bytes, bool]]) -> LedgerEntry:
        """The entry that extends the chain, refusing a ledger whose last line is not a valid entry."""
        prev_entry = None
        if lines:
            n, raw, terminated = lines[-1]
            try:
                prev_entry = _parse_line(raw, terminated)
            except _BadLine as bad:
                raise LedgerError(f"evidence store {self.folder}: refusing to append to a broken ledger: line {n}{bad}") from None
        seq = prev_entry.seq + 1 if prev_entry else 1
        prev = prev_entry.hash if prev_entry else GENESIS
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return LedgerEntry(seq=seq, at=at, kind=kind, body=body, prev=prev, hash=_entry_hash(seq, at, kind, body, prev))

    def _write_line(self, line: bytes) -> None:
        """One write on an O_APPEND descriptor; if it fails or falls short (disk full), cut the file back to
        where it was, so a failed append leaves no partial line behind."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            raise EvidenceStoreError(f"evidence store {self.folder}: cannot append to {LEDGER_FILE} ({err.strerror or err})") from None
        try:
            size = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}: only {written} of {len(line)} bytes written")
                os.fsync(fd)
            except OSError as err:
                os.ftruncate(fd, size)
                raise EvidenceStoreError(f"evidence store {self.folder}: cannot append to {LEDGER_FILE} "
                                         f"({err.strerror or err}); nothing was appended") from None
        finally:
            os.close(fd)

    def verify(self) -> VerifyReport:
        """Recompute every hash and check seq 1,2,3,... and prev links; reports a bad store, raises
        EvidenceStoreError only when the ledger cannot be read at all."""
        prev: LedgerEntry | None = None
        count, problem, checked = 0, None, []
        for n, raw, terminated in self._lines():
            try:
                e = _parse_line(raw, terminated)
            except _TornLine as torn:
                return VerifyReport(False, count, prev.hash if prev else None, f"line {n}{torn}", interrupted=True, checked=checked)
            except _BadLine as bad:
                problem = f"line {n}{bad}"
                break
            if prev is None and e.seq != 1:
                problem = f"line {n}: seq {e.seq} where seq 1 expected (an entry was removed or reordered)"
            elif prev is not None and e.seq != prev.seq + 1:
                problem = f"line {n}: seq {e.seq} follows seq {prev.seq} (an entry was removed or reordered)"
            elif prev is None and e.prev != GENESIS:
                problem = f"line {n} (seq {e.seq}): prev hash is not the genesis hash (64 zeros)"
            elif prev is not None and e.prev != prev.hash:
                problem = (f"line {n} (seq {e.seq}): prev hash does not match line {n - 1}'s hash"
                           " (removed or reordered?)")
            if problem:
                break
            prev, count = e, count + 1
            checked.append((e, raw))
        return VerifyReport(problem is None, count, prev.hash if prev else None, problem, checked=checked)
