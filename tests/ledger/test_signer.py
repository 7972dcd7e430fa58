"""The signer keeps the last tree it signed outside the database and refuses to fork from it."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from caliber.ledger import merkle, note
from caliber.ledger.signer import ForkRefused, LogSigner, SignerStateError


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    assert stat.S_IMODE((tmp_path / "log-key").stat().st_mode) == 0o600
    assert LogSigner.for_data_dir("caliber.test/ledger", tmp_path).vkey == signer.vkey
    with pytest.raises(ValueError, match="not for the configured origin"):
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


def grow(signer: LogSigner, tree: list[bytes], *sizes: int) -> None:
    """Sign the tree at each of ``sizes`` in turn, with the proof from the last size signed."""
    for size in sizes:
        last = signer.last_signed()
        proof = merkle.consistency_proof(last.size, size, merkle.subtree_from_leaves(tree)) if last and last.size else []
        signer.sign(size, merkle.root(tree[:size]), proof)


def test_the_state_is_a_note_signed_by_the_log_key_and_the_history_lists_every_tree_signed(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(12)
    grow(signer, tree, 3, 7, 7, 12)
    state = (tmp_path / "log-state").read_text()
    assert note.verify(state, [signer.vkey]).startswith("caliber.log-state/v2\ncaliber.test/ledger\n12\n")
    assert stat.S_IMODE((tmp_path / "log-history").stat().st_mode) == 0o600
    assert signer.signed_history() == [(size, merkle.root(tree[:size])) for size in (3, 7, 12)]
    last = signer.last_signed()
    assert last is not None
    assert (last.size, last.count) == (12, 3)


def test_an_edited_state_or_history_is_refused(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(12)
    grow(signer, tree, 3, 7, 12)
    state, history = (tmp_path / "log-state").read_text(), (tmp_path / "log-history").read_text()
    (tmp_path / "log-state").write_text(state.replace("\n12\n", "\n13\n", 1))
    with pytest.raises(SignerStateError, match="does not verify with the log key"):
        signer.last_signed()
    (tmp_path / "log-state").write_text("7 " + history.splitlines()[1].split()[1] + "\n")  # an unsigned state of the old form
    with pytest.raises(SignerStateError, match="older unsigned form"):  # over a history of 12: moved back, not upgraded
        signer.last_signed()
    with pytest.raises(SignerStateError, match="older unsigned form"):
        grow(signer, tree, 12)
    (tmp_path / "log-state").write_text(state)
    (tmp_path / "log-history").write_text("".join(history.splitlines(keepends=True)[1:]))  # the first line dropped
    with pytest.raises(SignerStateError, match="edited or truncated"):
        signer.signed_history()
    (tmp_path / "log-history").write_text(history)
    (tmp_path / "log-state").unlink()
    with pytest.raises(SignerStateError, match="the state was deleted"):
        grow(signer, tree, 12)


def test_a_stop_before_the_history_line_is_written_is_repaired_at_the_next_signature(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(12)
    grow(signer, tree, 3, 7)
    history = tmp_path / "log-history"
    history.write_text(history.read_text().splitlines(keepends=True)[0])  # the line of 7 never reached the disk
    assert [size for size, _root in signer.signed_history()] == [3, 7]
    grow(signer, tree, 12)
    assert [size for size, _root in signer.signed_history()] == [3, 7, 12]
    assert len(history.read_text().splitlines()) == 3


def test_a_state_of_the_older_form_is_read_and_moved_forward_at_the_next_signature(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(12)
    (tmp_path / "log-state").write_text(f"5 {base64.b64encode(merkle.root(tree[:5])).decode()}\n")
    last = signer.last_signed()
    assert last is not None
    assert (last.size, last.root, last.legacy) == (5, merkle.root(tree[:5]), True)
    with pytest.raises(ForkRefused):
        signer.sign(4, merkle.root(tree[:4]), [])
    grow(signer, tree, 9)
    assert signer.signed_history() == [(5, merkle.root(tree[:5])), (9, merkle.root(tree[:9]))]
    assert not signer.last_signed().legacy  # type: ignore[union-attr]


def test_a_stop_while_the_older_state_becomes_a_history_is_read_as_that_state(tmp_path: Path) -> None:
    signer = LogSigner.for_data_dir("caliber.test/ledger", tmp_path)
    tree = leaves(12)
    (tmp_path / "log-state").write_text(f"5 {base64.b64encode(merkle.root(tree[:5])).decode()}\n")
    (tmp_path / "log-history").write_text(f"5 {base64.b64encode(merkle.root(tree[:5])).decode()}\n")  # stopped before the new state
    assert signer.signed_history() == [(5, merkle.root(tree[:5]))]
    grow(signer, tree, 9)
    assert signer.signed_history() == [(5, merkle.root(tree[:5])), (9, merkle.root(tree[:9]))]


def test_without_create_a_missing_key_is_not_made(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no log key"):
        LogSigner.for_data_dir("caliber.test/ledger", tmp_path, create=False)
    assert not (tmp_path / "log-key").exists()
