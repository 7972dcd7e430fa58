"""The log's signer: signs checkpoints, and refuses to sign a tree that forks from the last one it signed.

The signer remembers what it signed in two files beside the database, so
restoring an older copy of the database and appending to it cannot produce a
second, different tree that the same key signs:

- ``log-state``: a note signed by the log key naming the last (size, root)
  signed, how many checkpoints this signer has signed and a running SHA-256
  over them (an edit breaks the signature; a file of the older, unsigned
  ``SIZE ROOT`` form is read and replaced at the next signature);
- ``log-history``: one ``SIZE ROOT`` line per checkpoint signed, in order,
  which the state's count and running hash pin down.

``caliber ledger verify`` checks the database's checkpoints against both.
Each host keeps its own pair; several hosts sharing one key each sign some
checkpoints of one log, so every host's history is a subset of the rows.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from caliber.ledger import merkle, note
from caliber.ledger.note import Checkpoint

__all__ = ["ForkRefused", "LogSigner", "SignedState", "SignerStateError"]

KEY_FILE = "log-key"
STATE_FILE = "log-state"
HISTORY_FILE = "log-history"
STATE_FORMAT = "caliber.log-state/v2"
EMPTY_HISTORY = bytes(32)


class ForkRefused(RuntimeError):
    """The tree to sign does not extend the tree this signer signed last."""


class SignerStateError(RuntimeError):
    """The signer's state or history file was edited, truncated or signed by another key."""


@dataclass(frozen=True, slots=True)
class SignedState:
    """The last tree size and root this signer signed, and the count and running hash of all it signed."""

    size: int
    root: bytes
    count: int = 0
    history: bytes = EMPTY_HISTORY
    legacy: bool = False
    """Read from the older ``SIZE ROOT`` file: unsigned, without a history."""


def history_line(size: int, root: bytes) -> bytes:
    """One line of ``log-history``: ``SIZE ROOT`` (base64)."""
    return f"{size} {base64.b64encode(root).decode()}\n".encode()


def extend_history(history: bytes, size: int, root: bytes) -> bytes:
    """The running hash after signing (size, root): SHA-256(previous hash || history line)."""
    return hashlib.sha256(history + history_line(size, root)).digest()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename), readable by the owner only."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _append_private(path: Path, line: bytes) -> None:
    """Append ``line`` to ``path`` (created readable by the owner only) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


class LogSigner:
    """Signs checkpoints of one origin with the log's Ed25519 note key."""

    def __init__(self, origin: str, skey: str, state_path: Path) -> None:
        self.origin = origin
        self.skey = skey
        self.vkey = note.verifier_key(skey)
        self.state_path = state_path
        self.history_path = state_path.with_name(HISTORY_FILE)

    @classmethod
    def for_data_dir(cls, origin: str, data_dir: Path, skey: str | None = None, *, create: bool = True) -> LogSigner:
        """The signer of ``origin``: key ``skey`` (``CALIBER_LOG_KEY``), else the data dir's key, made on first use.

        Without ``create`` a missing key is a :class:`FileNotFoundError` (a log that exists already needs its own key).
        """
        if skey is None:
            key_path = data_dir / KEY_FILE
            if not key_path.exists():
                if not create:
                    raise FileNotFoundError(f"no log key: {key_path} does not exist and CALIBER_LOG_KEY is not set")
                new_skey, _vkey = note.generate_key(origin)
                _write_private(key_path, new_skey + "\n")
            skey = key_path.read_text().strip()
        if (named := note.verifier_key(skey).split("+", 1)[0]) != origin:
            raise ValueError(f"the log key is for the origin {named!r}, not for the configured origin {origin!r}")
        return cls(origin, skey, data_dir / STATE_FILE)

    def last_signed(self) -> SignedState | None:
        """The last (size, root) signed, from the state file beside the database; :class:`SignerStateError` if edited."""
        if not self.state_path.exists():
            return None
        text = self.state_path.read_text()
        if not text.startswith(STATE_FORMAT + "\n"):
            return self._legacy_state(text)
        try:
            lines = note.verify(text, [self.vkey]).splitlines()
            _format, origin, size, root, count, history = lines
            state = SignedState(int(size), base64.b64decode(root), int(count), base64.b64decode(history))
        except (note.NoteError, ValueError) as exc:
            raise SignerStateError(f"{self.state_path} does not verify with the log key ({exc}): it was edited or replaced") from exc
        if origin != self.origin:
            raise SignerStateError(f"{self.state_path} is the state of the log {origin!r}, not of {self.origin!r}")
        return state

    def _legacy_state(self, text: str) -> SignedState:
        """A state of the older form: valid only without a history, or with the one line an upgrade stopped after."""
        try:
            size_text, root_text = text.split()
            state = SignedState(int(size_text), base64.b64decode(root_text, validate=True), legacy=True)
        except ValueError as exc:
            raise SignerStateError(f"{self.state_path} is neither a signed state nor a `SIZE ROOT` line: it was edited") from exc
        if self.history_path.exists() and self.history_path.read_bytes() != history_line(state.size, state.root):
            raise SignerStateError(
                f"{self.state_path} is of the older unsigned form but {self.history_path} names other checkpoints: "
                "the signed state was replaced (a signer never goes back to the older form)"
            )
        return state

    def signed_history(self) -> list[tuple[int, bytes]]:
        """Every (size, root) this signer signed, in order, checked against the state's count and running hash.

        The history may lack its last line (a stop between writing the state and appending the line): that line
        is the state's own (size, root). A state of the older form has only itself as its history.
        """
        with self._locked(fcntl.LOCK_SH):
            state = self.last_signed()
            return [] if state is None else self._history_of(state)

    def _history_of(self, state: SignedState) -> list[tuple[int, bytes]]:
        if state.legacy:
            return [(state.size, state.root)]
        raw = self.history_path.read_bytes() if self.history_path.exists() else b""
        lines = raw.splitlines(keepends=True)
        if len(lines) == state.count - 1:
            lines.append(history_line(state.size, state.root))
        running, signed = EMPTY_HISTORY, list[tuple[int, bytes]]()
        for line in lines:
            try:
                size_text, root_text = line.split()
                size, root = int(size_text), base64.b64decode(root_text, validate=True)
            except ValueError as exc:
                raise SignerStateError(f"{self.history_path}: line {len(signed) + 1} is not `SIZE ROOT`: it was edited") from exc
            running = extend_history(running, size, root)
            signed.append((size, root))
        if len(signed) != state.count or running != state.history or (signed and signed[-1] != (state.size, state.root)):
            raise SignerStateError(
                f"{self.history_path} holds {len(signed)} checkpoints that do not hash to the {state.count} "
                f"the signed state names: the history was edited or truncated"
            )
        return signed

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        """Processes on one host take turns through a lock file, so the state only moves forward."""
        lock_path = self.state_path.with_name(self.state_path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, mode)
            yield

    def sign(self, size: int, root: bytes, proof_from_last: list[bytes]) -> str:
        """The signed checkpoint note of (size, root), if it extends the last tree signed (``proof_from_last``)."""
        with self._locked(fcntl.LOCK_EX):
            return self._sign_locked(size, root, proof_from_last)

    def _sign_locked(self, size: int, root: bytes, proof_from_last: list[bytes]) -> str:
        last = self.last_signed()
        signed = note.sign(note.format_checkpoint(Checkpoint(self.origin, size, root)), self.skey)
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
                return signed
        self._remember(last, size, root)
        return signed

    def _remember(self, last: SignedState | None, size: int, root: bytes) -> None:
        """Move the state forward to (size, root): the signed state first, then its history line (O(1): no re-reading)."""
        if last is None:
            if self.history_path.exists():
                raise SignerStateError(f"{self.history_path} exists but {self.state_path} does not: the state was deleted")
            count, running = 0, EMPTY_HISTORY
        elif last.legacy:  # the older state becomes the first line of a history
            _write_private(self.history_path, history_line(last.size, last.root).decode())
            count, running = 1, extend_history(EMPTY_HISTORY, last.size, last.root)
        else:
            count, running = last.count, last.history
            if not self._history_ends_with(history_line(last.size, last.root)):
                _append_private(self.history_path, history_line(last.size, last.root))  # the line a stop left out
        running = extend_history(running, size, root)
        fields = [STATE_FORMAT, self.origin, str(size), base64.b64encode(root).decode(), str(count + 1)]
        text = "\n".join([*fields, base64.b64encode(running).decode()]) + "\n"
        _write_private(self.state_path, note.sign(text, self.skey))
        _append_private(self.history_path, history_line(size, root))

    def _history_ends_with(self, line: bytes) -> bool:
        if not self.history_path.exists():
            return False
        with open(self.history_path, "rb") as history:
            history.seek(max(0, history.seek(0, os.SEEK_END) - len(line)))
            return history.read() == line
