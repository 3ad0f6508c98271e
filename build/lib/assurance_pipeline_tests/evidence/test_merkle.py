"""The RFC 9162 Merkle tree against the reference vectors of transparency-dev/merkle (testonly/constants.go and
reference_test.go, Apache-2.0: leaf inputs, root hashes of every size, inclusion and consistency proofs), and every
proof of every pair of sizes up to 48 leaves checked by the verifier, with every single-bit corruption refused."""

from __future__ import annotations

import itertools

import pytest

from assurance_pipeline.evidence.merkle import (
    EMPTY_ROOT, ProofError, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
)

INPUTS = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
LEAVES = [leaf_hash(i) for i in INPUTS]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


@pytest.mark.parametrize("size", range(9))
def test_root_hashes(size: int):
    assert root(LEAVES[:size]).hex() == ROOTS[size]
    assert root([]) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs(index: int, size: int, proof: list[str]):
    got = inclusion_proof(LEAVES[:size], index)
    assert [h.hex() for h in got] == proof
    verify_inclusion(LEAVES[index], index, size, got, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs(old: int, new: int, proof: list[str]):
    got = consistency_proof(LEAVES[:new], old)
    assert [h.hex() for h in got] == proof
    verify_consistency(old, new, got, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]))


def corruptions(proof: list[bytes]):
    """Every proof an attacker could hand over by flipping one bit, dropping, adding or swapping a hash."""
    for i, h in enumerate(proof):
        for bit in (0, 77, 255):
            flipped = bytearray(h)
            flipped[bit // 8] ^= 1 << (bit % 8)
            yield [*proof[:i], bytes(flipped), *proof[i + 1:]]
        yield proof[:i] + proof[i + 1:]
    yield [*proof, proof[-1] if proof else LEAVES[0]]
    if len(proof) > 1:
        yield [proof[1], proof[0], *proof[2:]]


def test_every_proof_up_to_48_leaves_verifies_and_no_corruption_does():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(48)]
    roots = [root(leaves[:n]) for n in range(49)]
    for size in range(1, 49):
        for index in range(size):
            proof = inclusion_proof(leaves[:size], index)
            verify_inclusion(leaves[index], index, size, proof, roots[size])
            if size in (1, 7, 33, 48):
                for bad in corruptions(proof):
                    with pytest.raises(ProofError):
                        verify_inclusion(leaves[index], index, size, bad, roots[size])
                with pytest.raises(ProofError):
                    verify_inclusion(leaves[(index + 1) % size], index, size, proof, roots[size]) if size > 1 else \
                        verify_inclusion(leaf_hash(b"other"), index, size, proof, roots[size])
    for old, new in itertools.combinations(range(1, 49), 2):
        proof = consistency_proof(leaves[:new], old)
        verify_consistency(old, new, proof, roots[old], roots[new])
        if new in (2, 9, 32, 48):
            for bad in corruptions(proof):
                with pytest.raises(ProofError):
                    verify_consistency(old, new, bad, roots[old], roots[new])


def test_a_rewritten_history_is_not_consistent():
    """The attacks a consistency proof is for: an entry changed, the log cut back and regrown, the sizes swapped."""
    leaves = [leaf_hash(bytes([i])) for i in range(12)]
    old_root = root(leaves[:7])
    rewritten = [*leaves[:3], leaf_hash(b"forged"), *leaves[4:]]
    with pytest.raises(ProofError, match="history was rewritten"):
        verify_consistency(7, 12, consistency_proof(rewritten, 7), old_root, root(rewritten))
    with pytest.raises(ProofError):
        verify_consistency(7, 5, consistency_proof(leaves[:7], 5), old_root, root(leaves[:5]))  # truncated
    with pytest.raises(ProofError, match="same size, different root"):
        verify_consistency(7, 7, [], old_root, root(rewritten[:7]))
    with pytest.raises(ProofError, match="outside a tree"):
        verify_inclusion(leaves[0], 7, 7, [], old_root)
