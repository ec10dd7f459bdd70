"""FIM: the token ids the engine receives follow the training layout (docs/shards.md),
checked against an independent encoding with the `tokenizers` library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.fim import fim_prompt_ids, find_fim_tokens
from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from codekiln_serve.api.errors import APIError
from codekiln_serve.api.schemas import CompletionRequest
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


# --- repository context and the token budget ------------------------------------------------

FILES = (("pkg/util.py", "def helper():\n    return 41\n"),
         ("pkg/consts.py", "ANSWER = 42"))  # no final newline: the layout adds one


def _plain(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def _facts(model_dir: Path, context_length: int = 1024, context_tokens: int = 2048,
           ) -> ModelFacts:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    return ModelFacts(tok, context_length, frozenset({2}), find_fim_tokens(tok),
                      fim_context_tokens=context_tokens)


def _fim_request(**kw: Any) -> CompletionRequest:
    files = [{"path": p, "content": c} for p, c in FILES]
    return CompletionRequest(**{"model": "m", "prompt": PREFIX, "suffix": SUFFIX,
                                "files": files, "path": "pkg/main.py", **kw})


def test_repository_context_is_laid_out_as_the_repo_level_samples(tiny_model_dir: Path,
                                                                   ) -> None:
    """The prefix part is what a FIM-split repo-level sample holds before its cut: every file
    as `<[file]> PATH` + content (+ newline), the current file's header, the code."""
    enc = _plain(tiny_model_dir)
    prompt = completion_prompts(_fim_request(), _facts(tiny_model_dir))[0]
    lead = ("<[file]> pkg/util.py\ndef helper():\n    return 41\n"
            "<[file]> pkg/consts.py\nANSWER = 42\n"
            "<[file]> pkg/main.py\n" + PREFIX)
    assert prompt.ids == [4, *enc(SUFFIX), 3, *enc(lead), 5]
    assert not prompt.truncated


def test_farthest_context_is_dropped_first(tiny_model_dir: Path) -> None:
    enc = _plain(tiny_model_dir)
    nearest = len(enc("<[file]> pkg/consts.py\nANSWER = 42\n"))
    facts = _facts(tiny_model_dir, context_tokens=nearest)  # room for the nearest file only
    ids = completion_prompts(_fim_request(), facts)[0].ids
    lead = "<[file]> pkg/consts.py\nANSWER = 42\n<[file]> pkg/main.py\n" + PREFIX
    assert ids == [4, *enc(SUFFIX), 3, *enc(lead), 5]
    # the budget also counts what the request may generate: a tight context keeps nothing
    core = len(completion_prompts(_fim_request(files=None), _facts(tiny_model_dir))[0].ids)
    tight = _facts(tiny_model_dir, context_length=core + 16)
    ids = completion_prompts(_fim_request(max_tokens=16), tight)[0].ids
    assert ids == [4, *enc(SUFFIX), 3, *enc("<[file]> pkg/main.py\n" + PREFIX), 5]


def test_without_path_or_context_the_prompt_is_file_level(tiny_model_dir: Path) -> None:
    enc = _plain(tiny_model_dir)
    ids = completion_prompts(_fim_request(files=None, path=None), _facts(tiny_model_dir))[0].ids
    assert ids == [4, *enc(SUFFIX), 3, *enc(PREFIX), 5]
    # context without a path: the edited file still gets a header, so it starts a new file
    ids = completion_prompts(_fim_request(path=None), _facts(tiny_model_dir))[0].ids
    lead = ("<[file]> pkg/util.py\ndef helper():\n    return 41\n"
            "<[file]> pkg/consts.py\nANSWER = 42\n<[file]> untitled\n" + PREFIX)
    assert ids == [4, *enc(SUFFIX), 3, *enc(lead), 5]


def test_code_far_from_the_cursor_is_cut_only_for_editor_protocols(tiny_model_dir: Path,
                                                                    ) -> None:
    from codekiln_serve.translate import completion_sampling, sequence_requests

    enc = _plain(tiny_model_dir)
    prefix, suffix = "x = 1\n" * 200, "y = 2\n" * 200
    facts = _facts(tiny_model_dir, context_length=256)
    req = CompletionRequest(model="m", prompt=prefix, suffix=suffix, max_tokens=16)
    with pytest.raises(APIError) as info:  # OpenAI semantics: refuse, naming the limit
        prompts = completion_prompts(req, facts)
        sequence_requests(completion_sampling(req, facts), prompts, facts, 16, None)
    assert info.value.code == "context_length_exceeded"
    cut = completion_prompts(req, facts, truncate=True)[0]
    assert cut.truncated and len(cut.ids) == 256 - 16
    room = 256 - 16 - 3
    kept_suffix = room - int(room * 0.75)
    assert cut.ids[1:1 + kept_suffix] == enc(suffix)[:kept_suffix]  # nearest the cursor
    assert cut.ids[-1 - (room - kept_suffix):-1] == enc(prefix)[-(room - kept_suffix):]


def test_files_without_suffix_are_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(APIError) as info:
        completion_prompts(_fim_request(suffix=None), _facts(tiny_model_dir))
    assert info.value.status == 400 and info.value.param == "files"
