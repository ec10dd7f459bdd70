"""Exact dedup: normalization, hashes and the keep rule on real files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from codekiln_curate.dedup import (
    choose_representative,
    exact_hash,
    normalize_for_hash,
    repo_hash,
)


def test_normalization_ignores_line_endings_trailing_space_and_edge_blank_lines(
    tiny_code_corpus: Path,
) -> None:
    original = (tiny_code_corpus / "calc" / "ops.py").read_text()
    variant = "\n\n" + original.replace("\n", "  \r\n") + "\r\n\r\n"
    assert normalize_for_hash(variant) == normalize_for_hash(original)
    assert exact_hash(variant) == exact_hash(original)


def test_indentation_and_interior_lines_still_count(tiny_code_corpus: Path) -> None:
    original = (tiny_code_corpus / "calc" / "ops.py").read_text()
    assert exact_hash(original.replace("    return", "  return")) != exact_hash(original)
    assert exact_hash(original.replace("\n\n\n", "\n\n")) != exact_hash(original)


def test_exact_hash_is_sha256_of_normalized_text() -> None:
    text = "x = 1\r\ny = 2  \n"
    assert exact_hash(text) == hashlib.sha256(b"x = 1\ny = 2").hexdigest()


def test_every_corpus_file_hashes_distinctly(tiny_code_corpus: Path) -> None:
    files = [p for p in tiny_code_corpus.rglob("*") if p.is_file()]
    hashes = {exact_hash(p.read_text()) for p in files}
    assert len(hashes) == len(files)


def test_repo_hash_ignores_order_but_not_content() -> None:
    files = [exact_hash("a = 1"), exact_hash("b = 2"), exact_hash("c = 3")]
    assert repo_hash(files) == repo_hash(list(reversed(files)))
    assert repo_hash(files) != repo_hash(files[:2])
    assert repo_hash(files) != repo_hash([*files, files[0]])


def test_representative_is_smallest_repo_path_id_whatever_the_order() -> None:
    docs = [
        {"id": "3", "repo": "b/x", "path": "a.py"},
        {"id": "2", "repo": "a/y", "path": "z.py"},
        {"id": "1", "repo": "a/y", "path": "z.py"},
        {"id": "0", "repo": None, "path": "q.py"},
    ]
    assert choose_representative(docs)["id"] == "0"  # missing repo sorts first
    assert choose_representative(docs[:3])["id"] == "1"
    assert choose_representative(list(reversed(docs[:3])))["id"] == "1"
    with pytest.raises(ValueError):
        choose_representative([])
