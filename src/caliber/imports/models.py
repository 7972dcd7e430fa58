"""The rows of import files already recorded, so that importing a file again adds nothing."""

from __future__ import annotations

from advanced_alchemy.base import DefaultBase
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["ImportRow"]


class ImportRow(DefaultBase):
    """Which record each imported file row became: importing the same file again adds nothing."""

    __tablename__ = "import_row"

    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(10))
