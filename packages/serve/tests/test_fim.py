"""FIM: the token ids the engine receives follow the training layout (docs/shards.md),
checked against an independent encoding with the `tokenizers` library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from codekiln_serve.api.errors import APIError
from codekiln_serve.api.schemas import CompletionRequest
from codekiln_serve.fim import fim_prompt_ids, find_fim_tokens
from codekiln_serve.testing import ServerThread
from codekiln_serve.translate import ModelFacts, completion_prompts

PREFIX = "def add(a, b):\n    <[fim-prefix]>"  # sentinel text inside code stays plain text
SUFFIX = "\n\nprint(add(1, 2))\n"


def _reference(model_dir: Path, layout: str) -> list[int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    sid = {name: tok.token_to_id(name) for name in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)}
    pre = tok.encode(PREFIX, add_special_tokens=False).ids
    suf = tok.encode(SUFFIX, add_special_tokens=False).ids
    if layout == "spm":
        return [sid[FIM_SUFFIX], *suf, sid[FIM_PREFIX], *pre, sid[FIM_MIDDLE]]
    return [sid[FIM_PREFIX], *pre, sid[FIM_SUFFIX], *suf, sid[FIM_MIDDLE]]


class _Spy:
    """Records what the engine is asked to generate, then lets it generate."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.seen = engine, []
        self._submit = engine.submit

    def __call__(self, requests: Any) -> Any:
        self.seen.extend(requests)
        return self._submit(requests)


@pytest.mark.slow
def test_engine_receives_the_spm_layout(server: ServerThread, client: Any, model_name: str,
                                        tiny_model_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(server.built.engine)
    monkeypatch.setattr(server.built.engine, "submit", spy)
    out = client.completions.create(model=model_name, prompt=PREFIX, suffix=SUFFIX,
                                    max_tokens=4, temperature=0)
    assert out.choices[0].finish_reason in ("stop", "length")
    expected = _reference(tiny_model_dir, "spm")
    assert spy.seen[0].prompt_ids == expected
    assert out.usage.prompt_tokens == len(expected)
    # the text "<[fim-prefix]>" inside the prefix did not become a control id
    assert expected.count(server.built.facts.fim_tokens.prefix) == 1


def test_psm_layout_and_sentinel_ids(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    tokens = find_fim_tokens(tok)
    assert tokens is not None and (tokens.prefix, tokens.suffix, tokens.middle) == (3, 4, 5)
    assert fim_prompt_ids(tok, tokens, PREFIX, SUFFIX, "psm") == _reference(tiny_model_dir,
                                                                            "psm")
    assert fim_prompt_ids(tok, tokens, PREFIX, SUFFIX, "spm") == _reference(tiny_model_dir,
                                                                            "spm")


def test_other_common_fim_names_are_recognised() -> None:
    class Vocab:
        def __init__(self, names: list[str]) -> None:
            self.vocab = {n: i + 100 for i, n in enumerate(names)}

        def get_vocab(self) -> dict[str, int]:
            return self.vocab

    qwen = find_fim_tokens(Vocab(["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]))
    star = find_fim_tokens(Vocab(["<fim_prefix>", "<fim_middle>", "<fim_suffix>"]))
    assert qwen is not None and (qwen.prefix, qwen.suffix, qwen.middle) == (100, 101, 102)
    assert star is not None and (star.prefix, star.suffix, star.middle) == (100, 102, 101)
    assert find_fim_tokens(Vocab(["<s>", "</s>"])) is None


def test_a_model_without_fim_tokens_is_a_one_line_400(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    facts = ModelFacts(tok, 1024, frozenset({2}), fim_tokens=None)
    req = CompletionRequest(model="m", prompt="def f(", suffix=")")
    with pytest.raises(APIError) as info:
        completion_prompts(req, facts)
    assert info.value.status == 400 and info.value.code == "fim_unsupported"
    assert "\n" not in info.value.message and "suffix" in info.value.message


def test_tokenizer_config_names_the_fim_tokens(tiny_model_dir: Path) -> None:
    added = json.loads((tiny_model_dir / "tokenizer.json").read_text())["added_tokens"]
    assert {t["content"] for t in added} >= {FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE}
