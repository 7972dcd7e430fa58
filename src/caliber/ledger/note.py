"""Signed notes, checkpoints and cosignatures (C2SP signed-note, tlog-checkpoint, tlog-cosignature).

Pure: standard library and ``cryptography`` only. Keys use Go's
``golang.org/x/mod/sumdb/note`` formats:

- signer key ``PRIVATE+KEY+<name>+<key id hex>+<base64(type || 32-byte seed)>``
- verifier key ``<name>+<key id hex>+<base64(type || 32-byte public key)>``

where the key id is the first 4 bytes of SHA-256(name || 0x0A || type || public
key), type 0x01 for Ed25519 note signatures and 0x04 for tlog-cosignature/v1.
A note is its text, a blank line, and one line per signature:
``— <name> <base64(key id || signature)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "Checkpoint",
    "NoteError",
    "Signature",
    "cosign",
    "format_checkpoint",
    "generate_key",
    "key_type",
    "parse_checkpoint",
    "sign",
    "signatures",
    "split_note",
    "verifier_key",
    "verify",
    "verify_cosignature",
]

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
_DASH = "\u2014 "
_MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A key, note, checkpoint or signature is malformed or does not verify; the message says which."""


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: int
    data: bytes
    """The signature bytes after the key id (for cosignatures: 8-byte timestamp, then the signature)."""

    def line(self) -> str:
        """The line as it appears in a note."""
        return f"{_DASH}{self.name} {base64.b64encode(struct.pack('>I', self.key_id) + self.data).decode()}\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The body of a C2SP tlog-checkpoint: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())


# -- keys -------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise NoteError(f"key name {name!r} must be non-empty with no spaces and no '+'")


def key_id(name: str, key_type: int, public: bytes) -> int:
    """First 4 bytes of SHA-256(name || 0x0A || type || public key), as an integer."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def generate_key(name: str, key_type: int = ED25519) -> tuple[str, str]:
    """A new (signer key, verifier key) pair for ``name``; ``key_type`` 0x04 makes a witness key."""
    _check_name(name)
    if key_type not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"unknown key type {key_type:#04x}")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    kid = key_id(name, key_type, _public_bytes(private))
    skey = f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(bytes([key_type]) + seed).decode()}"
    return skey, verifier_key(skey)


@dataclass(frozen=True, slots=True)
class _Key:
    name: str
    key_id: int
    key_type: int
    material: bytes


def _parse_key(text: str, *, private: bool) -> _Key:
    text = text.strip()
    if private:
        if not text.startswith("PRIVATE+KEY+"):
            raise NoteError("a signer key looks like PRIVATE+KEY+<name>+<id>+<key>")
        text = text.removeprefix("PRIVATE+KEY+")
    parts = text.split("+", 2)  # the base64 key itself may hold '+'
    if len(parts) != 3:
        raise NoteError("a verifier key looks like <name>+<id>+<key>")
    name, hex_id, encoded = parts
    _check_name(name)
    try:
        kid = int(hex_id, 16)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError(f"key {name}: bad key id or base64") from exc
    if len(hex_id) != 8 or len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"key {name}: not an Ed25519 key of a known type")
    key = _Key(name, kid, raw[0], raw[1:])
    public = _public_bytes(Ed25519PrivateKey.from_private_bytes(key.material)) if private else key.material
    if key_id(name, key.key_type, public) != kid:
        raise NoteError(f"key {name}: the key id does not match the key")
    return key


def key_type(vkey: str) -> int:
    """The type byte of a verifier key (0x01 note signer, 0x04 witness); :class:`NoteError` if malformed."""
    return _parse_key(vkey, private=False).key_type


def verifier_key(skey: str) -> str:
    """The verifier key of a signer key."""
    key = _parse_key(skey, private=True)
    public = _public_bytes(Ed25519PrivateKey.from_private_bytes(key.material))
    return f"{key.name}+{key.key_id:08x}+{base64.b64encode(bytes([key.key_type]) + public).decode()}"


# -- notes ------------------------------------------------------------


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end with a newline and contain no blank line")
    if not text.isprintable() and any(not ch.isprintable() and ch != "\n" for ch in text):
        raise NoteError("note text must hold printable characters only")


def sign(text: str, skey: str) -> str:
    """The note: ``text``, a blank line, and the Ed25519 signature line of ``skey``."""
    _check_text(text)
    key = _parse_key(skey, private=True)
    if key.key_type != ED25519:
        raise NoteError(f"key {key.name} is a witness key: cosign checkpoints with it instead")
    signature = Ed25519PrivateKey.from_private_bytes(key.material).sign(text.encode())
    return text + "\n" + Signature(key.name, key.key_id, signature).line()


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The text of a note and its signature lines (unverified)."""
    if not note.endswith("\n"):
        raise NoteError("a note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note has a blank line between text and signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    _check_text(text)
    if not lines or len(lines) > _MAX_SIGNATURES:
        raise NoteError(f"a note has 1 to {_MAX_SIGNATURES} signatures")
    found = []
    for line in lines:
        if not line.startswith(_DASH) or line.count(" ") != 2:
            raise NoteError(f"malformed signature line {line!r}")
        name, encoded = line[len(_DASH) :].split(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"signature of {name}: bad base64") from exc
        if len(raw) < 5:
            raise NoteError(f"signature of {name}: too short")
        found.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, found


def signatures(note: str) -> list[Signature]:
    """The signature lines of a note (unverified)."""
    return split_note(note)[1]


def verify(note: str, vkeys: list[str]) -> str:
    """The text of ``note`` if one of ``vkeys`` signed it; a known key's bad signature is an error."""
    text, found = split_note(note)
    keys = {(k.name, k.key_id): k for k in (_parse_key(v, private=False) for v in vkeys) if k.key_type == ED25519}
    verified = False
    for sig in found:
        key = keys.get((sig.name, sig.key_id))
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.material).verify(sig.data, text.encode())
        except InvalidSignature as exc:
            raise NoteError(f"the signature of {sig.name} ({sig.key_id:08x}) does not verify") from exc
        verified = True
    if not verified:
        raise NoteError("no signature on the note is from a known key")
    return text


# -- checkpoints ------------------------------------------------------


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The note text of a checkpoint."""
    if len(checkpoint.root) != 32 or checkpoint.size < 0:
        raise NoteError("a checkpoint has a size of 0 or more and a 32-byte root")
    lines = [checkpoint.origin, str(checkpoint.size), base64.b64encode(checkpoint.root).decode(), *checkpoint.extensions]
    text = "\n".join(lines) + "\n"
    _check_text(text)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from its note text (C2SP tlog-checkpoint)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise NoteError("a checkpoint has an origin line, a size line and a root line")
    origin, size_line, root_line, *extensions = lines
    if not size_line.isdigit() or (size_line != "0" and size_line.startswith("0")) or not size_line.isascii():
        raise NoteError(f"checkpoint size {size_line!r} is not a decimal number")
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise NoteError("checkpoint root is not base64") from exc
    if len(root) != 32:
        raise NoteError("checkpoint root is not 32 bytes")
    return Checkpoint(origin, int(size_line), root, tuple(extensions))


# -- cosignatures (C2SP tlog-cosignature, cosignature/v1) ------------


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(note: str, skey: str, timestamp: int) -> str:
    """``note`` (a signed checkpoint) with a cosignature/v1 line of witness key ``skey`` added."""
    text, _found = split_note(note)
    parse_checkpoint(text)
    key = _parse_key(skey, private=True)
    if key.key_type != COSIGNATURE_V1:
        raise NoteError(f"key {key.name} is not a witness (cosignature/v1) key")
    if not 0 <= timestamp < 2**63:
        raise NoteError("a cosignature timestamp is seconds since 1970 as an unsigned 64-bit number")
    signature = Ed25519PrivateKey.from_private_bytes(key.material).sign(_cosigned_message(text, timestamp))
    return note + Signature(key.name, key.key_id, struct.pack(">Q", timestamp) + signature).line()


def verify_cosignature(note: str, vkey: str) -> int:
    """The timestamp of the cosignature of witness key ``vkey`` on ``note``; :class:`NoteError` if absent or bad."""
    text, found = split_note(note)
    key = _parse_key(vkey, private=False)
    if key.key_type != COSIGNATURE_V1:
        raise NoteError(f"key {key.name} is not a witness (cosignature/v1) key")
    for sig in found:
        if (sig.name, sig.key_id) != (key.name, key.key_id):
            continue
        if len(sig.data) != 8 + 64:
            raise NoteError(f"the cosignature of {key.name} has the wrong length")
        timestamp = struct.unpack(">Q", sig.data[:8])[0]
        try:
            Ed25519PublicKey.from_public_bytes(key.material).verify(sig.data[8:], _cosigned_message(text, timestamp))
        except InvalidSignature as exc:
            raise NoteError(f"the cosignature of {key.name} does not verify") from exc
        return int(timestamp)
    raise NoteError(f"no cosignature of {key.name} on the checkpoint")
