"""The ledger's entries as the leaves of an RFC 9162 Merkle tree (section 2.1): tree heads, inclusion proofs and
consistency proofs, and their verification.

Leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right); the tree of n > 1 leaves splits at k, the
largest power of two below n. Proof generation follows the recursive definitions of RFC 9162 2.1.3.1 and 2.1.4.1;
verification the algorithms of 2.1.3.2 and 2.1.4.2, which is what an auditor's tool runs. No maintained, permissively
licensed Python library implements RFC 9162 proofs, so these few functions are written here and tested against the
transparency-dev/merkle reference vectors. Work is O(n) per tree head over the leaf hashes, held in memory: a ledger
has one entry per cycle, authorization or disposition, so n is in the thousands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not hold (or is malformed): the trees are not what they claim."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (not entries), iteratively: pair up each level, an odd last node moves up as is,
    which is the same tree as the recursive split at the largest power of two."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1: the sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(leaves[:k], index), root(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), root(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1: shows the tree of the first `old_size` leaves is a prefix of this one."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no consistency proof from size {old_size} to {len(leaves)}")
    return _subproof(leaves, old_size, True)


def _subproof(leaves: Sequence[bytes], m: int, whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves[:k], m, whole), root(leaves[k:])]
    return [*_subproof(leaves[k:], m - k, False), root(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises ProofError unless `leaf` (a leaf hash) is at `index` of the tree of `size`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != expected_root:
        raise ProofError("the inclusion proof does not lead to the checkpoint's root hash")


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless the tree of `old_size` (root `old_root`) is a prefix of the tree of
    `new_size` (root `new_root`)."""
    if not 0 < old_size <= new_size:
        if old_size == 0 and not proof:
            return  # the empty tree is a prefix of every tree
        raise ProofError(f"no consistency from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("same size, different root hash: the history was rewritten")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError("the log's first entries no longer hash to the older checkpoint's root: its history was rewritten")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the newer root hash")


def prefix_roots(leaves: Sequence[bytes]) -> list[bytes]:
    """The root of every prefix of the tree (index n: the tree of the first n leaves), in O(n log n): the perfect
    subtrees of a prefix are kept on a stack as leaves are added (a compact range), and its root folds them right
    to left, as MTH splits at the largest power of two."""
    roots, stack = [EMPTY_ROOT], []  # stack: (height, hash) of the perfect subtrees, left to right
    for leaf in leaves:
        stack.append((0, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (height, right), (_, left) = stack.pop(), stack.pop()
            stack.append((height + 1, node_hash(left, right)))
        folded = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            folded = node_hash(left, folded)
        roots.append(folded)
    return roots
