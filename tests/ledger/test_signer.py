"""The signer keeps the last tree it signed outside the database and refuses to fork from it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from caliber.ledger import merkle, note
from caliber.ledger.signer import ForkRefused, LogSigner


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    assert stat.S_IMODE((tmp_path / "log-key").stat().st_mode) == 0o600
    assert LogSigner.for_data_dir("caliber.test/ledger", tmp_path).vkey == signer.vkey
    with pytest.raises(ValueError, match="another origin"):
        LogSigner.for_data_dir("other.test/ledger", tmp_path)


def test_a_growing_tree_is_signed_and_remembered(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(9)
    first = signer.sign(4, merkle.root(tree[:4]), [])
    assert note.parse_checkpoint(note.verify(first, [signer.vkey])).size == 4
    proof = merkle.consistency_proof(4, 9, merkle.subtree_from_leaves(tree))
    signer.sign(9, merkle.root(tree), proof)
    last = signer.last_signed()
    assert last is not None
    assert (last.size, last.root) == (9, merkle.root(tree))


def test_a_fork_or_a_shrunken_tree_is_refused(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(6)
    signer.sign(6, merkle.root(tree), [])
    forked = tree[:4] + leaves(4, b"other")
    proof = merkle.consistency_proof(6, 8, merkle.subtree_from_leaves(forked))
    with pytest.raises(ForkRefused, match="does not extend"):
        signer.sign(8, merkle.root(forked), proof)
    with pytest.raises(ForkRefused, match="restored from a backup"):
        signer.sign(5, merkle.root(tree[:5]), [])
    with pytest.raises(ForkRefused):
        signer.sign(6, merkle.root(forked[:6]), [])
