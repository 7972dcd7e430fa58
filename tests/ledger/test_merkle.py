"""RFC 6962 / RFC 9162 Merkle proofs: the transparency-dev vectors and properties over random trees."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.ledger import merkle
from caliber.ledger.merkle import ProofError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "merkle"  # transparency-dev/merkle's, see tests/vectors


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(str(path.relative_to(VECTORS)), json.loads(path.read_text())) for path in sorted((VECTORS / kind).rglob("*.json"))]


@pytest.mark.parametrize(("name", "case"), _load("inclusion"), ids=lambda v: v if isinstance(v, str) else "")
def test_inclusion_vectors(name: str, case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize(("name", "case"), _load("consistency"), ids=lambda v: v if isinstance(v, str) else "")
def test_consistency_vectors(name: str, case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    from_empty_ok = not proof and args[3] == merkle.EMPTY_ROOT and (case["size2"] > 0 or args[4] == merkle.EMPTY_ROOT)
    if case["size1"] == 0 and from_empty_ok:
        merkle.verify_consistency(*args)  # C2SP tlog-witness accepts old size 0 with an empty proof; the vectors do not
    elif case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_the_vectors_are_there_and_all_read() -> None:
    assert len(_load("inclusion")) >= 90, f"the RFC 6962 proof vectors are missing from {VECTORS}"
    assert len(_load("consistency")) >= 90, f"the RFC 6962 proof vectors are missing from {VECTORS}"
    assert len(_load("inclusion")) + len(_load("consistency")) == len(list(VECTORS.rglob("*.json")))


def test_known_roots() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(3)]
    assert merkle.root(leaves) == merkle.node_hash(merkle.node_hash(leaves[0], leaves[1]), leaves[2])


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH written as RFC 9162 §2.1.1 states it, recursively."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = merkle.split(len(leaves))
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def tree(size: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    return bytes(data)


sizes = st.integers(min_value=1, max_value=2000)


def path_shape(index: int, size: int) -> list[bool]:
    """For each sibling on the path of leaf ``index``, whether it lies to the leaf's right."""
    sides: list[bool] = []

    def record(lo: int, _hi: int) -> bytes:
        sides.append(lo > index)
        return bytes(32)

    merkle.inclusion_proof(index, size, record)
    return sides


@settings(max_examples=150, deadline=None)
@given(size=sizes)
def test_root_matches_the_recursive_definition(size: int) -> None:
    leaves = tree(size)
    assert merkle.root(leaves) == reference_root(leaves)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=sizes)
def test_extend_in_any_runs_grows_the_same_tree_as_push(data: st.DataObject, size: int) -> None:
    leaves = tree(size)
    cuts = sorted(data.draw(st.sets(st.integers(0, size), max_size=8), label="cuts") | {0, size})
    pushed, extended = merkle.Frontier(), merkle.Frontier()
    for lo, hi in itertools.pairwise(cuts):
        for leaf in leaves[lo:hi]:
            pushed.push(leaf)
        extended.extend(leaves[lo:hi])
        assert extended.size == pushed.size == hi
        assert extended.nodes == pushed.nodes
        assert extended.root() == pushed.root() == reference_root(leaves[:hi])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=sizes)
def test_runs_hashed_apart_join_into_the_same_tree(data: st.DataObject, size: int) -> None:
    """Frontiers that start mid-log (the verifier's workers) add up to the whole tree."""
    leaves = tree(size)
    cuts = sorted(data.draw(st.sets(st.integers(0, size), max_size=6), label="cuts") | {0, size})
    whole = merkle.Frontier()
    for lo, hi in itertools.pairwise(cuts):
        run = merkle.Frontier(size=lo)
        run.extend(leaves[lo:hi])
        for level, value in run.nodes:
            whole.add(level, value)
        assert whole.size == hi
        assert whole.root() == reference_root(leaves[:hi])


def test_a_subtree_must_start_on_its_own_boundary() -> None:
    frontier = merkle.Frontier(size=2)
    with pytest.raises(ValueError, match="cannot start at leaf 2"):
        frontier.add(2, bytes(32))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=sizes)
def test_every_inclusion_proof_verifies_and_any_change_is_rejected(data: st.DataObject, size: int) -> None:
    leaves = tree(size)
    index = data.draw(st.integers(0, size - 1))
    top = merkle.root(leaves)
    proof = merkle.inclusion_proof(index, size, merkle.subtree_from_leaves(leaves))
    merkle.verify_inclusion(leaves[index], index, size, proof, top)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(leaves[index], index, size, proof, flip(top, bit))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(flip(leaves[index], bit), index, size, proof, top)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaves[index], index, size, changed, top)
    # An inclusion proof fixes the path's shape, not the numbers: another index or size
    # whose path has the same shape verifies too (the signed checkpoint pins the size).
    for other_index, other_size in (
        (index ^ (1 << data.draw(st.integers(0, 11))), size),
        (index, size ^ (1 << data.draw(st.integers(0, 11)))),
    ):
        if other_size > other_index >= 0 and path_shape(other_index, other_size) != path_shape(index, size):
            with pytest.raises(ProofError):
                merkle.verify_inclusion(leaves[index], other_index, other_size, proof, top)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size2=sizes)
def test_every_consistency_proof_verifies_and_any_change_is_rejected(data: st.DataObject, size2: int) -> None:
    leaves = tree(size2)
    size1 = data.draw(st.integers(1, size2))
    root1, root2 = merkle.root(leaves[:size1]), merkle.root(leaves)
    proof = merkle.consistency_proof(size1, size2, merkle.subtree_from_leaves(leaves))
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    if size1 == size2:
        return
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, proof, flip(root1, bit), root2)
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, proof, root1, flip(root2, bit))
    position = data.draw(st.integers(0, len(proof) - 1))
    changed = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, changed, root1, root2)


def test_an_internal_node_is_not_a_leaf() -> None:
    leaves = tree(4)
    inner = merkle.node_hash(leaves[0], leaves[1])
    proof = [merkle.node_hash(leaves[2], leaves[3])]
    # Presented as leaf 0 of the signed size (4), the subtree hash fails; as leaf data its
    # leaf hash differs from the node hash (0x00 against 0x01 prefix), so it fails at any size.
    with pytest.raises(ProofError):
        merkle.verify_inclusion(inner, 0, 4, proof, merkle.root(leaves))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(merkle.leaf_hash(leaves[0] + leaves[1]), 0, 2, proof, merkle.root(leaves))


def test_consistency_from_the_empty_tree() -> None:
    root2 = merkle.root(tree(5))
    merkle.verify_consistency(0, 5, [], merkle.EMPTY_ROOT, root2)
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 5, [root2], merkle.EMPTY_ROOT, root2)
