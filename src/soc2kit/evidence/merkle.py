"""Merkle trees in the manner of Certificate Transparency (RFC 9162, section 2.1).

Leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``, the tree of
n leaves split at the largest power of two smaller than n. Inclusion and consistency proofs and
their verification follow the RFC's algorithms, so any RFC 9162 verifier can check what we print;
tests pin the RFC 6962 reference vectors.

Written here rather than taken from a library: the PyPI packages for CT Merkle trees are either
unmaintained or bring a whole CT client; this is ~150 lines against public test vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, computed level by level (fast, no recursion).

    Pairing left to right and carrying an odd last node up unchanged gives exactly the RFC's
    split-at-the-largest-power-of-two tree.
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [_sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root(data: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes([leaf_hash(d) for d in data])


def _subtree(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    return root_from_leaf_hashes(leaves[lo:hi])


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, over leaf hashes."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} outside a tree of {n}")
    proof: list[bytes] = []
    lo, hi, m = 0, n, index
    stack = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            stack.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            stack.append(_subtree(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    proof = list(reversed(stack))
    return proof


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1, over leaf hashes."""
    n = len(leaves)
    if not 0 < first <= n:
        raise ValueError(f"first size {first} outside 1..{n}")

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        size = hi - lo
        if m == size:
            return [] if complete else [_subtree(leaves, lo, hi)]
        k = _split(size)
        if m <= k:
            return subproof(m, lo, lo + k, complete) + [_subtree(leaves, lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [_subtree(leaves, lo, lo + k)]

    return subproof(first, 0, n, True)


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``leaf`` (a leaf hash) sit at ``index`` of the tree with ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes) -> bool:
    """RFC 9162 2.1.4.2: is the tree of size ``first`` a prefix of the tree of size ``second``?"""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # first is a power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
