"""Merkle tree hashes, proofs and proof verification exactly as RFC 6962 / RFC 9162 define them.

Pure: standard library only. Leaves and subtrees are addressed by half-open
ranges of leaf indexes ``[lo, hi)``; storage comes in as a ``subtree(lo, hi)``
callable that returns the hash of that range (stored complete subtrees make
it O(1) for power-of-two ranges), so proofs cost O(log n) look-ups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "subtree_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (RFC 9162 §2.1.1)."""

Subtree = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The complete subtrees of a tree grown leaf by leaf, left to right: its root at every size in O(log n).

    ``nodes`` holds (level, hash) pairs, largest subtree first; a tree of n
    leaves has one complete subtree per set bit of n (RFC 9162 §2.1.1).
    """

    __slots__ = ("nodes", "size")

    def __init__(self, nodes: Sequence[tuple[int, bytes]] = (), size: int = 0) -> None:
        self.nodes = list(nodes)
        self.size = size

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf hash; returns the (level, index, hash) of every subtree it completes, the leaf first."""
        index = self.size
        completed = [(0, index, leaf)]
        self.nodes.append((0, leaf))
        self.size += 1
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            (level, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            merged = node_hash(left, right)
            self.nodes.append((level + 1, merged))
            completed.append((level + 1, index >> (level + 1), merged))
        return completed

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Add many leaf hashes at once: each aligned run is hashed level by level, in bulk.

        Same tree as calling :meth:`push` for each; several times faster for long
        runs (the verifier feeds it thousands of leaves at a time).
        """
        done, count = 0, len(leaf_hashes)
        while done < count:
            aligned = (self.size & -self.size).bit_length() - 1 if self.size else 62
            level = min(aligned, (count - done).bit_length() - 1)
            layer = leaf_hashes[done : done + (1 << level)]
            while len(layer) > 1:
                layer = [_sha256(b"\x01" + left + right).digest() for left, right in zip(layer[::2], layer[1::2], strict=True)]
            self.add(level, layer[0])
            done += 1 << level

    def add(self, level: int, subtree: bytes) -> None:
        """Add the hash of the next complete subtree of ``2**level`` leaves (the size must be a multiple of it).

        A frontier may also start at a size other than 0 with no nodes: it then
        holds the complete subtrees of the leaves from that size on, which is how
        the verifier's workers each hash one run of the log.
        """
        if self.size % (1 << level):
            raise ValueError(f"a subtree of 2**{level} leaves cannot start at leaf {self.size}")
        self.nodes.append((level, subtree))
        self.size += 1 << level
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0] and self.size % (2 << self.nodes[-1][0]) == 0:
            (top, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            self.nodes.append((top + 1, node_hash(left, right)))

    def root(self) -> bytes:
        """MTH of the leaves pushed so far."""
        if not self.nodes:
            return EMPTY_ROOT
        result = self.nodes[-1][1]
        for _level, value in reversed(self.nodes[:-1]):
            result = node_hash(value, result)
        return result


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree with these leaf hashes, in one pass."""
    frontier = Frontier()
    frontier.extend(leaf_hashes)
    return frontier.root()


def subtree_from_leaves(leaf_hashes: Sequence[bytes]) -> Subtree:
    """A ``subtree(lo, hi)`` over leaf hashes held in memory (for small trees and tests)."""

    def subtree(lo: int, hi: int) -> bytes:
        return root(leaf_hashes[lo:hi])

    return subtree


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo += k
    proof.reverse()
    return proof


def consistency_proof(size1: int, size2: int, subtree: Subtree) -> list[bytes]:
    """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1); empty when size1 is 0 or equals size2."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    lo, hi, whole = 0, size2, True
    m = size1
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo += k
            m -= k
            whole = False
    if not whole:
        proof.append(subtree(lo, hi))
    proof.reverse()
    return proof


def _require_hashes(*values: bytes) -> None:
    for value in values:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash must be {HASH_SIZE} bytes, got {len(value)}")


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is entry ``index`` of the tree ``root`` of ``size`` (RFC 9162 §2.1.3.2)."""
    _require_hashes(leaf_hash, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of size {size}")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree ``root2`` of ``size2`` extends the tree ``root1`` of ``size1`` (RFC 9162 §2.1.4.2).

    From size 0 (the empty tree, root SHA-256 of nothing) the only valid proof
    is empty: C2SP tlog-witness accepts ``old 0``, where RFC 9162 leaves it undefined.
    """
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size {size2} cannot extend size {size1}")
    if size1 == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        if root1 != EMPTY_ROOT or (size2 == 0 and root2 != EMPTY_ROOT):
            raise ProofError("the empty tree has the root SHA-256 of nothing")
        return
    if size1 == size2:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError(f"two different roots for the same size {size1}")
        return
    _require_hashes(root1, root2, *proof)
    if not proof:
        raise ProofError(f"an empty consistency proof cannot prove size {size1} to {size2}")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than needed")
    if fr != root1:
        raise ProofError(f"the consistency proof does not lead to the old root of size {size1}")
    if sr != root2:
        raise ProofError(f"the consistency proof does not lead to the new root of size {size2}")
