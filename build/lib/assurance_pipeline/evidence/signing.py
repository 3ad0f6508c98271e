"""People's Ed25519 keys (RFC 8032, through `cryptography`) and the signatures on ledger entries.

A person's public key is registered in the standard's `people` as `ed25519:<base64 of its 32 bytes>`; the private
key stays with the person, in a PEM file of mode 0600 outside any evidence store. An entry is signed over its hash,
which covers its sequence number, time, kind, body and the hash of the entry before it, so a signature can be neither
moved to another entry nor replayed at another place in the ledger.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assurance_pipeline.errors import AssuranceError

PREFIX = "ed25519:"
DOMAIN = b"assurance ledger entry v1\n"  # what is signed is never just a hash another protocol could ask for
KEY_ENV = "ASSURANCE_SIGNING_KEY"  # the path of the signer's private key, when --key is not given
KEY_DIR_ENV = "ASSURANCE_KEY_DIR"  # where `keys new` writes, when --out is not given
MAX_KEY_FILE_BYTES = 4096


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """`ed25519:<base64>` as registered under `people`; ValueError saying what is wrong."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise ValueError(f"a public key is written {PREFIX}<base64> (as `assurance keys new` prints it)")
    try:
        raw = base64.b64decode(text[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the public key is not valid base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, this one is {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def signed_message(entry_hash: str) -> bytes:
    return DOMAIN + entry_hash.encode("ascii")


@dataclass(frozen=True)
class Signer:
    """A person's name and private key, checked against the registry before anything is signed."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return public_key_text(self.private_key.public_key())

    def sign(self, entry_hash: str) -> dict:
        value = self.private_key.sign(signed_message(entry_hash))
        return {"by": self.name, "public_key": self.public_key, "value": base64.b64encode(value).decode("ascii")}


def signature_holds(public_key: str, value: str, entry_hash: str) -> bool:
    """Whether `value` (base64) is a valid signature of the entry hash by `public_key`; never raises."""
    try:
        key = parse_public_key(public_key)
        raw = base64.b64decode(value, validate=True)
        key.verify(raw, signed_message(entry_hash))
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True


def new_key(name: str, directory: Path) -> tuple[Path, str]:
    """Make a key pair: the private key to `directory/<name>.key` (mode 0600, never overwritten), the public key as
    text to register. Refuses a folder inside an evidence store: a private key must never be kept with the evidence."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise AssuranceError(f"keys new --name {name!r}: use letters, digits, '-', '_' or '.' (it names the key file)")
    directory = Path(directory)
    store = _evidence_store_around(directory)
    if store is not None:
        raise AssuranceError(f"keys new --out {directory}: inside the evidence store {store}; keep private keys elsewhere")
    key = Ed25519PrivateKey.generate()
    path = directory / f"{name}.key"
    try:
        write_private_key(path, key)
    except FileExistsError:
        raise AssuranceError(f"{path}: a key file already exists; a key is never overwritten (choose another --name or --out)") from None
    except OSError as err:
        raise AssuranceError(f"{path}: cannot be written ({err.strerror or err})") from None
    return path, public_key_text(key.public_key())


def _evidence_store_around(directory: Path) -> Path | None:
    for folder in [directory.resolve(), *directory.resolve().parents]:
        if (folder / "ledger.jsonl").exists():
            return folder
    return None


def load_private_key(path: Path, what: str = "--key") -> Ed25519PrivateKey:
    """The private key in `path`, refusing a file others can read (as ssh does) or that is not an Ed25519 key;
    `what` names it in the message (the option or variable it came from)."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise AssuranceError(f"{what} {path}: cannot be read ({err.strerror or err})") from None
    if not stat.S_ISREG(info.st_mode):
        raise AssuranceError(f"{what} {path}: not a file")
    if info.st_mode & 0o077:
        raise AssuranceError(f"{what} {path}: others can read it (mode {stat.S_IMODE(info.st_mode):o}); run chmod 600 on it")
    if info.st_size > MAX_KEY_FILE_BYTES:
        raise AssuranceError(f"{what} {path}: not a private key file (too large)")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError):
        raise AssuranceError(f"{what} {path}: not an unencrypted PEM private key as `assurance keys new` writes it") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AssuranceError(f"{what} {path}: not an Ed25519 key")
    return key


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a new key file, mode 0600; never over an existing one (FileExistsError)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def key_file(given: Path | None) -> Path | None:
    """--key, else the file named by ASSURANCE_SIGNING_KEY, else None (unsigned)."""
    if given is not None:
        return given
    from_env = os.environ.get(KEY_ENV)
    return Path(from_env) if from_env else None


def default_key_dir() -> Path:
    return Path(os.environ.get(KEY_DIR_ENV) or Path.home() / ".assurance" / "keys")
