"""Password hashes (argon2id) and random secrets for sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["check_password_rules", "hash_password", "hash_secret", "new_secret", "verify_password"]

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# A hash of a password nobody has, verified when the username is unknown so
# that a login takes the same time whether or not the user exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def check_password_rules(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "password must not start or end with spaces"
    return None


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (None: an unknown user, always False)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A random bearer secret with a readable prefix, e.g. ``cal_tok_…``."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest under which a session or token secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
