"""llama.cpp's /infill rules that are ours to reproduce: n_indent, t_max_predict_ms and
response_fields (no model needed: the rules act on text and a clock)."""

from __future__ import annotations

from codekiln_serve.api.infill import InfillLimits, InfillRequest, pick_fields, to_completion


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def feed(limits: InfillLimits, pieces: list[str]) -> tuple[str, bool]:
    text = ""
    for piece in pieces:
        kept, stop = limits.add(piece)
        text += kept
        if stop:
            return text, True
    return text, False


def test_n_indent_cuts_at_the_code_of_a_less_indented_line() -> None:
    limits = InfillLimits(n_indent=4, t_max_predict_ms=0)
    text, stop = feed(limits, ["x + 1", "\n    y = 2\n", "  ", "z", " = 3\n"])
    assert stop and text == "x + 1\n    y = 2\n  "  # llama.cpp keeps the indentation it saw


def test_n_indent_spares_the_first_line_and_stops_at_a_blank_line() -> None:
    text, stop = feed(InfillLimits(4, 0), ["return a", " + b"])
    assert (text, stop) == ("return a + b", False)
    text, stop = feed(InfillLimits(4, 0), ["a\n", "\nb"])  # an empty line is indented 0
    assert (text, stop) == ("a\n", True)
    text, stop = feed(InfillLimits(0, 0), ["a\n", "b\nc"])  # 0: off
    assert (text, stop) == ("a\nb\nc", False)


def test_t_max_predict_ms_ends_only_after_a_newline() -> None:
    clock = Clock()
    limits = InfillLimits(0, t_max_predict_ms=100, clock=clock)
    assert limits.add("a") == ("a", False)
    clock.now = 5.0  # far past the limit, but no newline yet
    assert limits.add("b") == ("b", False)
    assert limits.add("\nc") == ("\nc", True)


def test_response_fields_pick_paths() -> None:
    result = {"content": "x", "timings": {"prompt_n": 3}, "stop": True}
    assert pick_fields(result, ["content", "timings/prompt_n", "missing", "timings/nope"]) == {
        "content": "x", "timings/prompt_n": 3}
    assert pick_fields(result, [""]) == {}
    assert pick_fields(result, None) == result


def test_llama_cpp_fields_map_to_the_completion() -> None:
    body = InfillRequest(input_prefix="a", prompt="b", input_suffix="c", n_predict=-1,
                         seed=-1, repeat_penalty=1.1, stop=["", "\n\n"], samplers=["infill"],
                         input_extra=[{"text": "t"}])
    req = to_completion(body, "m")
    assert (req.prompt, req.suffix, req.max_tokens, req.seed) == ("ab", "c", None, None)
    assert req.repetition_penalty == 1.1 and req.stop == ["\n\n"]
    assert req.files is not None and (req.files[0].path, req.files[0].content) == ("tmp", "t")
    assert (req.temperature, req.top_k, req.top_p) == (0.8, 40, 0.95)  # llama.cpp's defaults
