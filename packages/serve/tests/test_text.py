"""Incremental detokenization and stop strings (pure Python, a stand-in byte tokenizer)."""

from __future__ import annotations

from codekiln_serve.text import TextAssembler


class Bytes:
    """Each id is one byte, so multi-byte characters span several tokens."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return bytes(ids).decode("utf-8", errors="replace")


def _run(text: str, stops: list[str]) -> tuple[list[str], TextAssembler]:
    asm = TextAssembler(Bytes(), stops)
    pieces = [asm.add(b) for b in text.encode()]
    pieces.append(asm.finish())
    return pieces, asm


def test_multibyte_characters_are_never_split() -> None:
    pieces, _asm = _run("é→ok", [])
    assert "".join(pieces) == "é→ok" and "\ufffd" not in "".join(pieces)


def test_stop_string_is_cut_and_never_shown_even_across_tokens() -> None:
    pieces, asm = _run("abc\n\ndef", ["\n\n"])
    assert asm.stopped and "".join(pieces) == "abc"
    assert all("\n" not in p for p in pieces)


def test_partial_stop_prefix_is_released_when_it_turns_out_not_to_stop() -> None:
    pieces, asm = _run("a<b<c", ["<END>"])
    assert not asm.stopped and "".join(pieces) == "a<b<c"


def test_earliest_of_several_stops_wins() -> None:
    pieces, _asm = _run("one two three", ["three", "two"])
    assert "".join(pieces) == "one "
