"""The FIM layout helpers serve, eval and curate share: sentinel order per layout, the
template text for clients that fill it themselves, and the repo-level file format."""

from __future__ import annotations

import pytest

from codekiln_core.fim import (
    FimConfig,
    FimTokens,
    FimUnsupportedError,
    check_fim,
    fim_layout_ids,
    fim_split,
    fim_template,
)
from codekiln_core.repo_text import file_block, file_header, repo_text
from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX

TOKENS = FimTokens(3, 4, 5, (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE))


def test_layouts_order_the_parts_and_end_with_the_middle_sentinel() -> None:
    assert fim_layout_ids(TOKENS, "spm", [10, 11], [20]) == [4, 20, 3, 10, 11, 5]
    assert fim_layout_ids(TOKENS, "psm", [10, 11], [20]) == [3, 10, 11, 4, 20, 5]


def test_templates_for_clients_that_fill_them() -> None:
    assert fim_template(TOKENS, "spm", "{prefix}", "{suffix}") == \
        "<[fim-suffix]>{suffix}<[fim-prefix]>{prefix}<[fim-middle]>"
    assert fim_template(TOKENS, "psm", "{{ .Prompt }}", "{{ .Suffix }}") == \
        "<[fim-prefix]>{{ .Prompt }}<[fim-suffix]>{{ .Suffix }}<[fim-middle]>"


def test_missing_tokens_or_unknown_layout_are_one_line_errors() -> None:
    with pytest.raises(FimUnsupportedError, match="no fill-in-the-middle tokens"):
        check_fim(None, "spm")
    with pytest.raises(FimUnsupportedError, match="spm or psm"):
        check_fim(TOKENS, "mps")


def test_split_is_keyed_by_document_not_position() -> None:
    config = FimConfig(rate=1.0, seed=3)
    first = fim_split("def f():\n    return 1\n", "a.py", config)
    assert first == fim_split("def f():\n    return 1\n", "a.py", config)
    assert first is not None
    assert first.prefix + first.middle + first.suffix == "def f():\n    return 1\n"


def test_repo_text_is_header_content_newline() -> None:
    assert file_header("pkg/a.py") == "<[file]> pkg/a.py\n"
    assert file_block("a.py", "x = 1") == "<[file]> a.py\nx = 1\n"
    assert repo_text([("a.py", "x = 1\n"), ("b.py", "y")]) == \
        "<[file]> a.py\nx = 1\n<[file]> b.py\ny\n"
