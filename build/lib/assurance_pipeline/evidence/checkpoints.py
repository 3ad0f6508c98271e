"""The evidence log's signed checkpoints: after every entry the store signs its origin, size and RFC 9162 root hash
as a C2SP tlog-checkpoint (`checkpoints/<size>.note`), so whoever keeps a copy of one can later prove that the log
still extends it: nothing removed, rolled back or rewritten (`verify --checkpoint`).

The store's signing key is the installation's, like the fingerprint key: the file `ASSURANCE_STORE_KEY_FILE`,
default `~/.assurance/store.key`, made on first use (mode 0600) and never kept in the evidence store. The store holds
only `store.json`: its origin (a name made once per store) and the verifier key of its checkpoints. Whoever can
write the store and holds that key could rewrite the log and re-sign it; a checkpoint kept elsewhere, or cosigned
by a witness, is what catches that.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.merkle import leaf_hash, root
from assurance_pipeline.evidence.notes import ED25519, Checkpoint, NoteError, Verifier, parse_vkey, sign, vkey
from assurance_pipeline.evidence.signing import load_private_key, write_private_key

STORE_FILE = "store.json"
CHECKPOINTS_DIR = "checkpoints"
KEY_FILE_ENV = "ASSURANCE_STORE_KEY_FILE"
DEFAULT_KEY_FILE = Path.home() / ".assurance" / "store.key"


@dataclass(frozen=True)
class LogIdentity:
    """Who signs this store's checkpoints: its origin (the key name) and the verifier key."""

    origin: str
    verifier: Verifier


def store_key() -> Ed25519PrivateKey:
    """The installation's checkpoint key, made on first use."""
    path = Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE)
    if not path.exists():
        try:
            write_private_key(path, Ed25519PrivateKey.generate())
        except FileExistsError:
            pass  # another process made it meanwhile
        except OSError as err:
            raise EvidenceStoreError(f"{KEY_FILE_ENV} {path}: cannot make the store's checkpoint key ({err.strerror or err})") from None
    return load_private_key(path, KEY_FILE_ENV)


def read_identity(folder: Path) -> LogIdentity | None:
    """The store's origin and checkpoint verifier key, or None for a store that has none yet; NoteError if
    store.json is not one."""
    path = Path(folder) / STORE_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {folder}: cannot read {STORE_FILE} ({err.strerror or err})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        verifier = parse_vkey(data["checkpoint_key"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise NoteError(f"{STORE_FILE}: not a store identity ({err if isinstance(err, NoteError) else 'origin and checkpoint_key'})") from None
    if verifier.kind != ED25519 or data.get("origin") != verifier.name:
        raise NoteError(f"{STORE_FILE}: its checkpoint key is not an Ed25519 key named for its origin")
    return LogIdentity(verifier.name, verifier)


def identity(folder: Path, key: Ed25519PrivateKey) -> LogIdentity:
    """The store's identity, made with `key` for a new store; refuses a key other than the store's."""
    try:
        known = read_identity(folder)
    except NoteError as err:
        raise EvidenceStoreError(f"evidence store {folder}: {err}; run `assurance verify`") from None
    if known is None:
        origin = f"assurance-pipeline.local/{uuid.uuid4()}"
        made = {"origin": origin, "checkpoint_key": vkey(origin, ED25519, key.public_key())}
        _write_once(Path(folder) / STORE_FILE, (json.dumps(made, indent=2) + "\n").encode())
        known = read_identity(folder)
    if vkey(known.origin, ED25519, key.public_key()) != vkey(known.origin, ED25519, known.verifier.public_key):
        raise EvidenceStoreError(f"evidence store {folder}: its checkpoints are signed with another key than {KEY_FILE_ENV} "
                                 f"gives ({known.verifier.id.hex()} expected); point {KEY_FILE_ENV} at that key")
    return known


def write_checkpoint(folder: Path, lines: list[bytes], log: LogIdentity, key: Ed25519PrivateKey) -> Path:
    """Sign the checkpoint of the log made of `lines` (each entry's bytes, no newline) into checkpoints/."""
    checkpoint = Checkpoint(log.origin, len(lines), root([leaf_hash(line) for line in lines]))
    path = Path(folder) / CHECKPOINTS_DIR / f"{len(lines):012d}.note"
    try:
        path.parent.mkdir(exist_ok=True)
        _write_once(path, sign(checkpoint.text(), log.origin, key).encode())
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {folder}: entry {len(lines)} was appended, but its checkpoint could not be "
                                 f"written ({err.strerror or err}); the next entry writes one") from None
    return path


def checkpoint_paths(folder: Path) -> list[Path]:
    """The checkpoint files, oldest first (their names are their sizes)."""
    directory = Path(folder) / CHECKPOINTS_DIR
    try:
        return sorted(p for p in directory.iterdir() if not p.name.startswith(".")) if directory.is_dir() else []
    except OSError as err:
        raise EvidenceStoreError(f"evidence store {folder}: cannot read {CHECKPOINTS_DIR}/ ({err.strerror or err})") from None


def _write_once(path: Path, data: bytes) -> None:
    """Write `data` to a new file in one rename; an existing file is left as it is (it was written the same way)."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    try:
        os.link(tmp, path)  # fails if another writer got there first: never replaces a file
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
