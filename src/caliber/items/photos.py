"""Photos of items: checked by their first bytes, stored once under their SHA-256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from caliber.errors import InvalidInput, NotFound

__all__ = ["MAX_PHOTO_BYTES", "PHOTO_TYPES", "photo_file", "store_photo"]

PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}
MAX_PHOTO_BYTES = 20 * 1024 * 1024
_SHA256 = re.compile("[0-9a-f]{64}")


# -- for work flows in other domains (destruction) -----------------------------------------


def photo_file(folder: Path, sha256: str) -> Path:
    """Where the photo with this SHA-256 is stored in ``folder``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound("no such photo")
    return folder / sha256[:2] / sha256


def store_photo(folder: Path, content: bytes, content_type: str) -> str:
    """Check a photograph and store it in ``folder`` under its SHA-256 (once); returns the hash."""
    magic = PHOTO_TYPES.get(content_type)
    if magic is None:
        raise InvalidInput(f"photos must be {', '.join(PHOTO_TYPES)}; got {content_type or 'no type'}", field="photo")
    if not content.startswith(magic):
        raise InvalidInput(f"the file is not a {content_type} image", field="photo")
    if len(content) > MAX_PHOTO_BYTES:
        raise InvalidInput(f"photos are limited to {MAX_PHOTO_BYTES // (1024 * 1024)} MB", field="photo")
    digest = hashlib.sha256(content).hexdigest()
    path = photo_file(folder, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(path)
    return digest
