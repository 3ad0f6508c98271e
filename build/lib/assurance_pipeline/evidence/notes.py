"""Signed checkpoints in the C2SP formats, so tools other than ours can check them: `signed-note` (a text, a blank
line, then `— <key name> base64(key ID || signature)` lines), `tlog-checkpoint` (origin, tree size and base64 root
hash as the note text) and `tlog-cosignature` (a witness's timestamped Ed25519 cosignature, type 0x04).

Key IDs are SHA-256(key name || 0x0A || type || public key)[:4]; a verifier key ("vkey") is written
`<name>+<hex key ID>+<base64(type || public key)>`, as Go's sumdb/note and the witness tools write them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # a log's own signature
COSIGNATURE_V1 = 0x04  # a witness's timestamped cosignature
DASH = "\u2014 "
MAX_NOTE_BYTES = 1 << 16
MAX_SIGNATURES = 64


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or whose signature does not verify; says which."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, kind: int, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + _raw(public_key)).digest()[:4]


def vkey(name: str, kind: int, public_key: Ed25519PublicKey) -> str:
    return f"{name}+{key_id(name, kind, public_key).hex()}+{base64.b64encode(bytes([kind]) + _raw(public_key)).decode()}"


@dataclass(frozen=True)
class Verifier:
    name: str
    kind: int
    public_key: Ed25519PublicKey

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)


def parse_vkey(text: str) -> Verifier:
    """`name+keyid+base64(type || key)`; the key ID must be the one the name and key give."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _good_name(parts[0]):
        raise NoteError("a verifier key is written name+keyid+base64key")
    name, given_id, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("the verifier key's key material is not base64") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("the verifier key is not an Ed25519 log or cosignature key")
    verifier = Verifier(name, raw[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
    if given_id.lower() != verifier.id.hex():
        raise NoteError(f"the verifier key's key ID {given_id} does not match its name and key")
    return verifier


def _good_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def sign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The note `text` signed by the log's key `name` (type 0x01)."""
    _check_text(text)
    signature = key_id(name, ED25519, private_key.public_key()) + private_key.sign(text.encode())
    return f"{text}\n{DASH}{name} {base64.b64encode(signature).decode()}\n"


def cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature line (type 0x04) over the checkpoint `text`, at `timestamp` (POSIX seconds)."""
    body = key_id(name, COSIGNATURE_V1, private_key.public_key()) + struct.pack(">Q", timestamp)
    body += private_key.sign(cosignature_message(text, timestamp))
    return f"{DASH}{name} {base64.b64encode(body).decode()}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    body: bytes  # what follows the key ID


def split(note: str) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a note; NoteError if it is not one."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("the note holds control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note (no blank line before the signatures)")
    text, lines = note[: cut + 1], note[cut + 2:].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("a signed note has between 1 and 64 signature lines")
    signatures = []
    for line in lines:
        if not line.startswith(DASH) or line.count(" ") != 2:
            raise NoteError(f"not a signature line: {line[:40]!r}")
        name, encoded = line[len(DASH):].split(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"the signature of {name!r} is not base64") from None
        if len(raw) < 5 or not _good_name(name):
            raise NoteError(f"the signature line of {name!r} is malformed")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return text, signatures


def open_note(note: str, log: Verifier) -> tuple[str, list[Signature]]:
    """The text of a note that `log` signed (and all its signature lines); NoteError if it did not."""
    text, signatures = split(note)
    mine = [s for s in signatures if s.name == log.name and s.id == log.id]
    if not mine:
        raise NoteError(f"the note carries no signature of {log.name} (key ID {log.id.hex()})")
    for s in mine:
        try:
            log.public_key.verify(s.body, text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {log.name} does not verify: the note was altered or forged") from None
    return text, signatures


def cosigned_at(text: str, signatures: list[Signature], witness: Verifier) -> int | None:
    """The time at which `witness` cosigned this checkpoint text, None if it did not; NoteError for a forged one."""
    for s in signatures:
        if s.name != witness.name or s.id != witness.id:
            continue
        if len(s.body) != 72:
            raise NoteError(f"the cosignature of {witness.name} is malformed")
        (timestamp,) = struct.unpack(">Q", s.body[:8])
        try:
            witness.public_key.verify(s.body[8:], cosignature_message(text, timestamp))
        except InvalidSignature:
            raise NoteError(f"the cosignature of {witness.name} does not verify") from None
        return timestamp
    return None


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note's text ends with a newline and holds no other control character")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint's note text: origin, decimal size (no leading zeros), base64 root hash, then extension lines."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("not a checkpoint (origin, size and root hash lines)")
    origin, size, root = lines[:3]
    if not origin or not size.isdigit() or (size != "0" and size.startswith("0")) or len(size) > 19:
        raise NoteError("not a checkpoint: its size line is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise NoteError("not a checkpoint: its root hash is not 32 bytes of base64")
    return Checkpoint(origin, int(size), digest)
