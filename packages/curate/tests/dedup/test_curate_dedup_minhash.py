"""Near dedup: MinHash estimates, band derivation, spilled clustering vs exact Jaccard."""

from __future__ import annotations

import sysconfig
import tracemalloc
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codekiln_core.errors import CodekilnError, ConfigError
from codekiln_curate.dedup import (
    BandSpill,
    MinHashConfig,
    MinHasher,
    code_tokens,
    combine_signatures,
    estimated_jaccard,
    jaccard,
    optimal_bands,
    shingle_hashes,
    signature_similarity,
)
from codekiln_curate.dedup.bands import key_hash
from codekiln_curate.dedup.shingles import token_hash, token_hashes


def stdlib_texts(count: int, min_chars: int = 3000) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts: list[str] = []
    for path in sorted(root.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text) >= min_chars:
            texts.append(text)
        if len(texts) == count:
            break
    return texts


def drop_lines(text: str, every: int, offset: int) -> str:
    return "\n".join(line for i, line in enumerate(text.split("\n")) if i % every != offset)


def test_tokens_ignore_layout() -> None:
    assert code_tokens("x=foo(a,b)+1.5") == code_tokens("x = foo(\n    a, b\n) + 1.5")
    assert code_tokens("naïve = 1") == [b"na\xc3\xafve", b"=", b"1"]
    assert np.array_equal(
        shingle_hashes("def f(a):\n  return a"), shingle_hashes("def f(a): return a")
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(" \t\n._=(1aé\x00")))
def test_vectorised_token_hashes_match_the_token_rule(text: str) -> None:
    reference = np.array([token_hash(t) for t in code_tokens(text)], dtype=np.uint64)
    assert np.array_equal(token_hashes(text), reference)


def test_token_hashes_agree_on_real_code_and_lone_surrogates() -> None:
    for text in [*stdlib_texts(20), "x\udc80y = 1.5e3", "\x00\x00", "   "]:
        reference = np.array([token_hash(t) for t in code_tokens(text)], dtype=np.uint64)
        assert np.array_equal(token_hashes(text), reference)
    assert code_tokens("a.b 1.5") == [b"a", b".", b"b", b"1", b".", b"5"]


def test_bands_minimize_weighted_error_like_the_reference_solution() -> None:
    # Values of the published optimum (Leskovec et al. banding analysis, equal weights).
    assert optimal_bands(0.5, 128) == (25, 5)
    assert optimal_bands(0.9, 128) == (5, 25)
    bands, rows = optimal_bands(0.8, 128)
    assert bands * rows <= 128
    assert MinHashConfig(threshold=0.8, verify=False).band_layout == (bands, rows)
    # With verification the derivation weighs misses 4x: more, shorter bands.
    assert MinHashConfig(threshold=0.8).band_layout == optimal_bands(0.8, 128, 0.2, 0.8)
    assert optimal_bands(0.8, 128, 0.2, 0.8)[0] > bands
    assert MinHashConfig(bands=16, rows=8).band_layout == (16, 8)


@pytest.mark.parametrize("bad", [{"threshold": 1.5}, {"num_perm": 1}, {"bands": 20, "rows": 8},
                                 {"verify_bins": 500}, {"verify_members": 0}])
def test_bad_config_is_a_one_line_error(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        MinHashConfig(**bad)  # type: ignore[arg-type]


def test_signature_estimates_exact_jaccard_on_real_edits() -> None:
    hasher = MinHasher(MinHashConfig(num_perm=256))
    errors = []
    for text in stdlib_texts(40):
        for every in (5, 10, 30):
            a, b = shingle_hashes(text), shingle_hashes(drop_lines(text, every, 2))
            est = estimated_jaccard(
                hasher.signature_of_shingles(a), hasher.signature_of_shingles(b)
            )
            errors.append(est - jaccard(a, b))
    err = np.array(errors)
    assert abs(err.mean()) < 0.01  # unbiased
    assert err.std() < 0.04  # ~sqrt(J(1-J)/256) <= 0.031


def test_verification_bins_estimate_jaccard_tighter_than_band_values() -> None:
    """512 one-permutation bins: unbiased, and ~half the spread of the 128 band values."""
    config = MinHashConfig()
    hasher = MinHasher(config)
    band_errors, bin_errors = [], []
    for text in stdlib_texts(40):
        for every in (5, 10, 30):
            a, b = shingle_hashes(text), shingle_hashes(drop_lines(text, every, 2))
            sa, sb = hasher.signature_of_shingles(a), hasher.signature_of_shingles(b)
            truth = jaccard(a, b)
            band_errors.append(estimated_jaccard(sa[: config.num_perm], sb[: config.num_perm])
                               - truth)  # fmt: skip
            bin_errors.append(float(signature_similarity(sa, sb, config)[0]) - truth)
    bands, bins = np.array(band_errors), np.array(bin_errors)
    assert abs(bins.mean()) < 0.01
    assert bins.std() < 0.7 * bands.std()
    assert signature_similarity(sa, sa, config)[0] == 1.0
    # band values are unchanged by the sketch: same as a config without bins
    plain = MinHasher(MinHashConfig(verify_bins=0)).signature_of_shingles(a)
    assert np.array_equal(hasher.signature_of_shingles(a)[: config.num_perm], plain)
    assert len(plain) == 128 and config.width == 128 + 512


def test_signatures_are_deterministic_and_seeded() -> None:
    text = stdlib_texts(1)[0]
    assert np.array_equal(MinHasher().signature(text), MinHasher().signature(text))
    assert not np.array_equal(
        MinHasher().signature(text), MinHasher(MinHashConfig(seed=2)).signature(text)
    )


def test_repo_signature_equals_signature_of_the_union() -> None:
    hasher = MinHasher()
    texts = stdlib_texts(3)
    parts = [shingle_hashes(t) for t in texts]
    union = np.unique(np.concatenate(parts))
    combined = combine_signatures(np.stack([hasher.signature_of_shingles(p) for p in parts]))
    assert np.array_equal(combined, hasher.signature_of_shingles(union))


def build_near_duplicate_corpus() -> dict[str, str]:
    """Real files plus chains of edited copies: o -> a (1 line in 40 gone) -> b (2 gone)."""
    docs: dict[str, str] = {}
    for i, text in enumerate(stdlib_texts(90)):
        docs[f"f{i:03d}/orig"] = text
        if i % 3 == 0:
            docs[f"f{i:03d}/edit1"] = drop_lines(text, 40, 5)
            docs[f"f{i:03d}/edit2"] = drop_lines(drop_lines(text, 40, 5), 39, 20)
    return docs


def test_clusters_agree_with_exact_jaccard_and_collapse_transitively(tmp_path: Path) -> None:
    docs = build_near_duplicate_corpus()
    keys = list(docs)
    config = MinHashConfig(threshold=0.8)
    sigs = MinHasher(config).signatures([docs[k] for k in keys])
    spill = BandSpill(tmp_path / "spill", config)
    spill.add(keys[:50], sigs[:50])
    spill.add(keys[50:], sigs[50:])
    clusters = spill.clusters()

    shingles = {k: shingle_hashes(docs[k]) for k in keys}
    truth = {(a, b) for a, b in combinations(keys, 2) if jaccard(shingles[a], shingles[b]) >= 0.8}
    predicted = {
        (a, b) for a, b in combinations(keys, 2) if a in clusters and clusters[a] == clusters.get(b)
    }
    found = truth & predicted
    assert len(truth) >= 40
    assert len(found) / len(truth) >= 0.9  # recall of truly similar pairs
    # Every predicted pair is a true pair or joined through one (transitive closure).
    assert all(shingles_close(shingles[a], shingles[b]) for a, b in predicted)
    # Representative = smallest key, which is the original "orig" of each chain.
    for key, cluster in clusters.items():
        assert cluster == min(k for k, c in clusters.items() if c == cluster)
        assert cluster.split("/")[0] == key.split("/")[0]
    assert spill.duplicates() == {k for k, c in clusters.items() if k != c}


def shingles_close(a: np.ndarray, b: np.ndarray) -> bool:
    return jaccard(a, b) >= 0.6  # two hops of >= 0.8 stay well above 0.6 here


def test_transitive_chain_becomes_one_cluster(tmp_path: Path) -> None:
    """a~b and b~c but a !~ c directly: one cluster, represented by the smallest key."""
    base = stdlib_texts(1, min_chars=20000)[0]
    tokens = [t.decode() for t in code_tokens(base)]
    n = len(tokens)
    a = " ".join(tokens[: int(n * 0.85)])
    b = " ".join(tokens[int(n * 0.075) : int(n * 0.925)])
    c = " ".join(tokens[int(n * 0.15) :])
    sa, sb, sc = (shingle_hashes(x) for x in (a, b, c))
    assert jaccard(sa, sb) > 0.8 and jaccard(sb, sc) > 0.8 and jaccard(sa, sc) < 0.72
    # 32 bands of 4 rows: a pair at J ~ 0.8 meets in some band with p > 1 - 1e-7, so the
    # outcome hangs on the verified links, not on the luck of one band layout.
    config = MinHashConfig(threshold=0.75, bands=32, rows=4)
    spill = BandSpill(tmp_path / "s", config)
    spill.add(["k-a", "k-b", "k-c"], MinHasher(config).signatures([a, b, c]))
    assert spill.clusters() == {"k-a": "k-a", "k-b": "k-a", "k-c": "k-a"}


def test_link_is_verified_against_later_bucket_members_not_only_the_first(
        tmp_path: Path) -> None:
    """A bucket whose first member is a chance collision: its other members still join.

    Three documents share band 0 and no other band. In key-hash order the first one agrees
    with the others only there; the second and third agree on 13 of 16 values (one differs
    in each other band). Checking against the first member alone finds no link; checking
    each earlier member until a match links the two.
    """
    config = MinHashConfig(num_perm=16, bands=4, rows=4, threshold=0.8, verify_bins=0)
    first, second, third = sorted(["doc-a", "doc-b", "doc-c"], key=key_hash)
    rng = np.random.default_rng(7)
    similar = rng.integers(0, 2**32, size=16, dtype=np.uint32)
    stranger = rng.integers(0, 2**32, size=16, dtype=np.uint32)
    stranger[:4] = similar[:4]  # same band-0 bucket, nothing else in common
    near = similar.copy()
    near[[4, 8, 12]] += 1  # 13/16 = 0.81 agree, but no shared bucket in bands 1-3
    sigs = {first: stranger, second: similar, third: near}
    spill = BandSpill(tmp_path / "s", config)
    spill.add(list(sigs), np.stack(list(sigs.values())))
    low, high = sorted([second, third])
    assert spill.clusters() == {low: low, high: low}
    # The first member really is in the bucket: unverified, all three join.
    loose = BandSpill(tmp_path / "loose", MinHashConfig(num_perm=16, bands=4, rows=4,
                                                        verify=False))  # fmt: skip
    loose.add(list(sigs), np.stack(list(sigs.values())))
    assert len(loose.clusters()) == 3


def test_verify_members_caps_the_checks_per_bucket(tmp_path: Path) -> None:
    """With ``verify_members=1`` only the first member is tried (the old rule): no link."""
    config = MinHashConfig(num_perm=16, bands=4, rows=4, verify_bins=0, verify_members=1)
    first, second, third = sorted(["doc-a", "doc-b", "doc-c"], key=key_hash)
    rng = np.random.default_rng(7)
    similar = rng.integers(0, 2**32, size=16, dtype=np.uint32)
    stranger = rng.integers(0, 2**32, size=16, dtype=np.uint32)
    stranger[:4] = similar[:4]
    near = similar.copy()
    near[[4, 8, 12]] += 1
    spill = BandSpill(tmp_path / "s", config)
    spill.add([first, second, third], np.stack([stranger, similar, near]))
    assert spill.clusters() == {}


def test_spill_rejects_wrong_shapes_and_reused_dirs(tmp_path: Path) -> None:
    spill = BandSpill(tmp_path / "s")
    with pytest.raises(CodekilnError, match="shape"):
        spill.add(["a", "b"], np.zeros((2, 64), dtype=np.uint32))
    spill.add(["a"], np.zeros((1, spill.config.width), dtype=np.uint32))
    with pytest.raises(CodekilnError, match="not empty"):
        BandSpill(tmp_path / "s")


def test_clustering_memory_is_bounded_by_one_band(tmp_path: Path) -> None:
    """Peak traced memory of ``clusters`` is far below holding all bands at once.

    200k synthetic signatures (random, plus 1% planted copies): every band file is 12 bytes
    per doc, all bands together 108 bytes/doc at 9 bands; clustering must stay well below.
    """
    rng = np.random.default_rng(0)
    n, config = 200_000, MinHashConfig()
    sigs = rng.integers(0, 2**32, size=(n, config.width), dtype=np.uint32)
    sigs[n - 2000 :] = sigs[:2000]  # 2000 exact copies
    spill = BandSpill(tmp_path / "s", config)
    keys = [f"doc{i:07d}" for i in range(n)]
    for start in range(0, n, 50_000):
        spill.add(keys[start : start + 50_000], sigs[start : start + 50_000])
    del sigs
    tracemalloc.start()
    roots = spill.components()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    bands, _ = config.band_layout
    assert peak / n < 80  # measured ~55 bytes/doc: union-find + one sorted band
    assert peak < n * 12 * bands
    assert (roots[n - 2000 :] == np.arange(2000)).all()
    assert len(np.unique(roots)) == n - 2000


def test_repo_level_near_dedup_with_combined_signatures(tmp_path: Path) -> None:
    """A fork that edited a few files clusters with its origin; an unrelated repo does not."""
    texts = stdlib_texts(30)
    repos = {
        "alice/lib": texts[:10],
        "bob/lib-fork": [drop_lines(t, 50, 7) if i < 3 else t for i, t in enumerate(texts[:10])],
        "carol/other": texts[10:20],
    }
    config = MinHashConfig(threshold=0.8)
    hasher = MinHasher(config)
    names = sorted(repos)
    signatures = np.stack([combine_signatures(hasher.signatures(repos[n])) for n in names])
    spill = BandSpill(tmp_path / "repos", config)
    spill.add(names, signatures)
    assert spill.clusters() == {"alice/lib": "alice/lib", "bob/lib-fork": "alice/lib"}
    assert spill.duplicates() == {"bob/lib-fork"}


def test_clusters_do_not_depend_on_insertion_order(tmp_path: Path) -> None:
    docs = build_near_duplicate_corpus()
    config = MinHashConfig(threshold=0.8)
    hasher = MinHasher(config)
    results = []
    for run, keys in enumerate([sorted(docs), sorted(docs, reverse=True)]):
        spill = BandSpill(tmp_path / f"run{run}", config)
        for start in range(0, len(keys), 37):  # odd batch size: batches differ between runs
            batch = keys[start : start + 37]
            spill.add(batch, hasher.signatures([docs[k] for k in batch]))
        results.append(spill.clusters())
    assert results[0] == results[1]
    assert len(results[0]) > 40


def test_near_dedup_stage_options_reach_the_config() -> None:
    from pydantic import ValidationError

    from codekiln_curate.stages.near_dedup import NearDedupOptions, NearDedupStage

    assert NearDedupStage().config.width == 128 + 512
    legacy = NearDedupStage(NearDedupOptions.model_validate({"verify_bins": 0,
                                                             "verify_members": 1}))
    assert (legacy.config.width, legacy.config.verify_members) == (128, 1)
    with pytest.raises(ValidationError, match="power of two"):
        NearDedupOptions.model_validate({"verify_bins": 500})
