"""LSH banding spilled to disk, then connected components one band at a time.

Memory stays bounded by one band: ``add`` appends ``(band_hash, doc_index)`` records to one
file per band and the verification sketches (``verification_sketch``) to one more;
``clusters`` loads a single band, groups equal band hashes (members ordered by key hash, so
the order of ``add`` calls does not matter) and links members into a vectorised union-find
(roots are always the smallest index in a component), so transitive duplicates collapse into
one cluster.

Without verification every member links to its bucket's first member. With it, a member is
checked against the earlier members of its bucket one at a time, first to last (up to
``verify_members``), and links to the first one whose estimated Jaccard reaches the
threshold: a bucket whose first member is a chance collision (or the far end of an edit
chain) still joins its other members. Checking runs as rounds over the whole band: round
``r`` compares every still-unlinked member at position > r with the member at position r.

Peak memory of ``clusters``: ~8 bytes/doc for the union-find, 8 for the key hashes, plus
~50 bytes/doc while one band is sorted, plus the keys of documents that end up in clusters
(read back at the end).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codekiln_core.errors import CodekilnError
from codekiln_curate.dedup.minhash import (
    MinHashConfig,
    sketch_similarity,
    verification_sketch,
)

_RECORD = np.dtype([("hash", "<u8"), ("doc", "<u4")])
_VERIFY_BYTES = 4 << 20  # signature bytes read per verification block (bounded temporaries)


class BandSpill:
    """Collects signatures of up to 2**32 documents in ``workdir`` and clusters them.

    ``workdir`` must be empty or absent: a spill belongs to exactly one dedup pass.
    """

    def __init__(self, workdir: str | Path, config: MinHashConfig | None = None) -> None:
        self.config = config or MinHashConfig()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if any(self.workdir.iterdir()):
            raise CodekilnError(
                f"dedup workdir {self.workdir} is not empty; point it at a new directory "
                "or delete the old spill files"
            )
        self.bands, self.rows = self.config.band_layout
        self.count = 0
        self._band_paths = [self.workdir / f"band-{b:04d}.bin" for b in range(self.bands)]
        self._sig_path = self.workdir / "verify.sketch"
        self._keys_path = self.workdir / "keys.jsonl"
        self._keyhash_path = self.workdir / "keyhash.u64"

    # ----------------------------------------------------------------- writing
    def add(self, keys: list[str], signatures: np.ndarray) -> None:
        """Append documents; row ``i`` of ``signatures`` belongs to ``keys[i]``."""
        sigs = np.ascontiguousarray(signatures, dtype=np.uint32)
        if sigs.ndim != 2 or sigs.shape != (len(keys), self.config.width):
            raise CodekilnError(
                f"signatures have shape {sigs.shape}, expected ({len(keys)}, "
                f"{self.config.width}) for {len(keys)} keys; hash with the same MinHashConfig"
            )
        if self.count + len(keys) >= 2**32:
            raise CodekilnError("a BandSpill holds at most 2**32 - 1 documents; shard the input")
        doc_index = np.arange(self.count, self.count + len(keys), dtype=np.uint32)
        for band, path in enumerate(self._band_paths):
            records = np.empty(len(keys), dtype=_RECORD)
            records["hash"] = band_hashes(sigs, band, self.rows)
            records["doc"] = doc_index
            with path.open("ab") as fh:
                records.tofile(fh)
        if self.config.verify:  # only verification reads signatures back
            with self._sig_path.open("ab") as fh:
                verification_sketch(sigs, self.config).tofile(fh)
        with self._keys_path.open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(key) + "\n" for key in keys)
        with self._keyhash_path.open("ab") as fh:
            np.fromiter((key_hash(k) for k in keys), dtype=np.uint64, count=len(keys)).tofile(fh)
        self.count += len(keys)

    # ----------------------------------------------------------------- reading
    def _key_hashes(self) -> np.ndarray:
        return np.fromfile(self._keyhash_path, dtype=np.uint64)

    def _band_buckets(self, band: int, key_hashes: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(docs, starts, position)`` of one band, bucket members in key-hash order.

        ``docs[i]`` is a document, ``starts[i]`` the index in ``docs`` of its bucket's first
        member and ``position[i]`` its place in the bucket (0 for the first member).
        Ordering by key hash makes links independent of the order documents were added in.
        """
        records = np.fromfile(self._band_paths[band], dtype=_RECORD)
        order = np.lexsort((key_hashes[records["doc"]], records["hash"]))
        hashes = records["hash"][order]
        docs = records["doc"][order].astype(np.int64)
        del records, order
        is_first = np.ones(len(hashes), dtype=bool)
        is_first[1:] = hashes[1:] != hashes[:-1]
        starts = np.flatnonzero(is_first)[np.cumsum(is_first) - 1]
        return docs, starts, np.arange(len(docs)) - starts

    def _band_links(self, band: int, key_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(member, first)`` index pairs of one band: bucket members linked to its first."""
        docs, starts, position = self._band_buckets(band, key_hashes)
        linked = position > 0
        return docs[linked], docs[starts[linked]]

    def _verified_links(self, band: int, key_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(member, earlier)`` pairs: each member and the first earlier member it matches."""
        docs, starts, position = self._band_buckets(band, key_hashes)
        probe = verification_sketch(np.zeros((1, self.config.width), np.uint32), self.config)
        sigs = np.memmap(self._sig_path, dtype=probe.dtype, mode="r",
                         shape=(self.count, probe.shape[1]))  # fmt: skip
        pending = np.flatnonzero(position > 0)
        members: list[np.ndarray] = []
        partners: list[np.ndarray] = []
        for rank in range(self.config.verify_members):
            pending = pending[position[pending] > rank]
            if not len(pending):
                break
            member, partner = docs[pending], docs[starts[pending] + rank]
            ok = self._similar(sigs, member, partner)
            members.append(member[ok])
            partners.append(partner[ok])
            pending = pending[~ok]
        if not members:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(members), np.concatenate(partners)

    def _similar(self, sigs: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Mask of pairs whose estimated Jaccard reaches the threshold (blockwise)."""
        keep = np.empty(len(a), dtype=bool)
        chunk = max(1, _VERIFY_BYTES // (2 * sigs.itemsize * sigs.shape[1]))  # two rows a pair
        for start in range(0, len(a), chunk):
            stop = start + chunk
            estimate = sketch_similarity(sigs[a[start:stop]], sigs[b[start:stop]],
                                         self.config)  # fmt: skip
            keep[start:stop] = estimate >= self.config.threshold
        return keep

    def candidate_pairs(self) -> Iterator[tuple[int, int]]:
        """``(member, first)`` document indices sharing a band bucket, band by band (unverified).

        A pair can repeat across bands; links are to the bucket's first member only, so a
        bucket of ``k`` documents yields ``k - 1`` pairs, not ``k*(k-1)/2``.
        """
        key_hashes = self._key_hashes()
        for band in range(self.bands):
            members, firsts = self._band_links(band, key_hashes)
            yield from zip(members.tolist(), firsts.tolist(), strict=True)

    def components(self) -> np.ndarray:
        """``int64[count]`` root per document: the smallest index of its component."""
        parent = np.arange(self.count, dtype=np.int64)
        key_hashes = self._key_hashes()
        links = self._verified_links if self.config.verify else self._band_links
        for band in range(self.bands):
            members, partners = links(band, key_hashes)
            _union(parent, members, partners)
        return _flatten(parent)

    def clusters(self) -> dict[str, str]:
        """Key -> cluster id for every document in a cluster of two or more.

        The cluster id is the representative key: the smallest key (string order) in the
        cluster. Documents absent from the mapping are unique (their own cluster).
        """
        roots = self.components()
        sizes = np.bincount(roots, minlength=self.count)
        in_cluster = sizes[roots] >= 2
        rep: dict[int, str] = {}
        member_keys: dict[int, str] = {}
        with self._keys_path.open(encoding="utf-8") as fh:
            for index, line in enumerate(fh):
                if in_cluster[index]:
                    key = json.loads(line)
                    member_keys[index] = key
                    root = int(roots[index])
                    if root not in rep or key < rep[root]:
                        rep[root] = key
        return {key: rep[int(roots[index])] for index, key in member_keys.items()}

    def duplicates(self) -> set[str]:
        """Keys to drop: every clustered key that is not its cluster's representative."""
        return {key for key, cluster in self.clusters().items() if key != cluster}


def key_hash(key: str) -> int:
    """Stable 64-bit hash of a key (BLAKE2b), used to order bucket members."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def band_hashes(signatures: np.ndarray, band: int, rows: int) -> np.ndarray:
    """One 64-bit hash of the ``rows`` signature values of ``band`` per document.

    The band number is mixed in, so equal values in different bands never collide.
    """
    cols = signatures[:, band * rows : (band + 1) * rows].astype(np.uint64)
    acc = np.full(len(signatures), (band * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF, np.uint64)
    with np.errstate(over="ignore"):
        for k in range(rows):
            acc = (acc ^ cols[:, k]) * np.uint64(0x100000001B3)
            acc ^= acc >> np.uint64(31)
    return acc


def _flatten(parent: np.ndarray) -> np.ndarray:
    """Point every node at its root (pointer jumping until stable)."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent[:] = grand


def _union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Merge the components of each ``(a[i], b[i])``; the smaller root wins.

    Vectorised: hook larger roots under smaller ones with ``minimum.at``, flatten, repeat
    until every pair shares a root. Each round at least halves the unmerged pairs.
    """
    while len(a):
        _flatten(parent)
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        a, b, ra, rb = a[differ], b[differ], ra[differ], rb[differ]
        if not len(a):
            return
        low, high = np.minimum(ra, rb), np.maximum(ra, rb)
        np.minimum.at(parent, high, low)
