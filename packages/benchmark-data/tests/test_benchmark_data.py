"""The bundled files are intact, catalogued, licensed, and nothing unlisted ships."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import codekiln_benchmark_data as bench

PERMISSIVE = {"MIT", "CC-BY-4.0", "Apache-2.0"}


def count_records(file: Path) -> int:
    opener = gzip.open if file.name.endswith(".gz") else open
    with opener(file, "rt", encoding="utf-8") as fh:
        if file.name.endswith(".json"):
            return len(json.load(fh))
        return sum(1 for line in fh if line.strip())


def test_every_file_matches_its_sha256_and_has_licence_and_notice() -> None:
    assert bench.verify() == []


@pytest.mark.parametrize("entry", bench.files(), ids=lambda e: e.name)
def test_record_counts_match_the_catalogue(entry: bench.BundledFile) -> None:
    assert count_records(bench.path(entry.name)) == entry.records


def test_only_catalogued_files_ship() -> None:
    """A data file added without a catalogue row (and licence review) fails here."""
    listed = {bench.path(f.name) for f in bench.files()}
    shipped = {p for p in bench.root().rglob("*") if p.is_file()}
    extra = {p for p in shipped - listed if p.name not in {"LICENSE", "NOTICE"}}
    assert extra == set()


def test_only_permissive_licences_and_no_restricted_benchmark() -> None:
    assert {f.license for f in bench.files()} <= PERMISSIVE
    assert not {"livecodebench", "mhpp", "multipl-e"} & set(bench.benchmarks())


def test_licence_texts_name_the_licence() -> None:
    marks = {"MIT": "Permission is hereby granted", "Apache-2.0": "Apache License",
             "CC-BY-4.0": "creativecommons.org/licenses/by/4.0"}  # fmt: skip
    for entry in bench.files():
        assert marks[entry.license] in bench.license_path(entry.name).read_text()
        revision = entry.source.split(" ")[0].split("@")[-1].split("==")[-1][:8]
        assert revision in bench.notice_path(entry.name).read_text(), entry.name


def test_accessor_names_and_families() -> None:
    assert bench.path("humaneval").name == "HumanEval.jsonl.gz"
    assert [f.name for f in bench.files("humaneval-x")] == [
        f"humaneval-x-{lang}" for lang in ("cpp", "go", "java", "js", "python", "rust")
    ]
    assert bench.benchmarks()[:3] == ("humaneval", "mbpp", "mbpp-sanitized")


def test_unknown_name_lists_the_bundled_ones() -> None:
    with pytest.raises(bench.UnknownBenchmarkFile, match="bundled: humaneval, mbpp"):
        bench.path("livecodebench")
    with pytest.raises(KeyError):  # still a KeyError for callers that expect one
        bench.get("nope")
