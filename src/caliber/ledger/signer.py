"""The log's signer: signs checkpoints, and refuses to sign a tree that forks from the last one it signed.

The signer remembers the last (size, root) it signed in a file beside the
database (``log-state`` in the data dir), so restoring an older copy of the
database and appending to it cannot produce a second, different tree that the
same key signs: the next checkpoint would not be consistent with the
remembered one.
"""

from __future__ import annotations

import base64
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from caliber.ledger import merkle, note
from caliber.ledger.note import Checkpoint

__all__ = ["ForkRefused", "LogSigner", "SignedState"]

KEY_FILE = "log-key"
STATE_FILE = "log-state"


class ForkRefused(RuntimeError):
    """The tree to sign does not extend the tree this signer signed last."""


@dataclass(frozen=True, slots=True)
class SignedState:
    """The last tree size and root this signer signed."""

    size: int
    root: bytes


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename), readable by the owner only."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class LogSigner:
    """Signs checkpoints of one origin with the log's Ed25519 note key."""

    def __init__(self, origin: str, skey: str, state_path: Path) -> None:
        self.origin = origin
        self.skey = skey
        self.vkey = note.verifier_key(skey)
        self.state_path = state_path

    @classmethod
    def for_data_dir(cls, origin: str, data_dir: Path, skey: str | None = None) -> LogSigner:
        """The signer of ``origin``: key ``skey`` (``CALIBER_LOG_KEY``), else the data dir's key, made on first use."""
        if skey is None:
            key_path = data_dir / KEY_FILE
            if not key_path.exists():
                new_skey, _vkey = note.generate_key(origin)
                _write_private(key_path, new_skey + "\n")
            skey = key_path.read_text().strip()
        if note.verifier_key(skey).split("+", 1)[0] != origin:
            raise ValueError(f"the log key is for another origin than {origin!r}")
        return cls(origin, skey, data_dir / STATE_FILE)

    def last_signed(self) -> SignedState | None:
        """The last (size, root) signed, from the state file beside the database."""
        if not self.state_path.exists():
            return None
        size_text, root_text = self.state_path.read_text().split()
        return SignedState(int(size_text), base64.b64decode(root_text))

    def sign(self, size: int, root: bytes, proof_from_last: list[bytes]) -> str:
        """The signed checkpoint note of (size, root), if it extends the last tree signed (``proof_from_last``).

        Processes on one host take turns through a lock file, so the state only moves forward.
        """
        lock_path = self.state_path.with_name(self.state_path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._sign_locked(size, root, proof_from_last)

    def _sign_locked(self, size: int, root: bytes, proof_from_last: list[bytes]) -> str:
        last = self.last_signed()
        if last is not None:
            if size < last.size:
                raise ForkRefused(
                    f"the log has {size} entries but this signer already signed {last.size}: "
                    "the database is older than the signer's state (restored from a backup?); refusing to fork the log"
                )
            try:
                merkle.verify_consistency(last.size, size, proof_from_last, last.root, root)
            except merkle.ProofError as exc:
                raise ForkRefused(f"the tree of size {size} does not extend the tree of size {last.size} signed before: {exc}") from exc
            if size == last.size:
                return note.sign(note.format_checkpoint(Checkpoint(self.origin, size, root)), self.skey)
        signed = note.sign(note.format_checkpoint(Checkpoint(self.origin, size, root)), self.skey)
        _write_private(self.state_path, f"{size} {base64.b64encode(root).decode()}\n")
        return signed
