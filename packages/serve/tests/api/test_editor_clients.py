"""Editors' own requests, replayed as they send them, against the real server: llama.vim and
llama.vscode (llama.cpp /infill), Continue (Ollama /api/show, /api/tags, /api/generate),
minuet (Codestral /v1/fim/completions and /v1/completions with suffix) and template-filling
clients (Tabby, minuet's manual template). The bodies follow each client's documented request
format, field for field; the check is the prompt ids the engine receives (against an
independent `tokenizers` encoding of the layout) and the response shape the client reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from codekiln_serve.testing import ServerThread

pytestmark = pytest.mark.slow

BEFORE = "import os\n\n\ndef add(a, b):\n"
LINE = "    return "  # the cursor's line so far
AFTER = "\n\n\nprint(add(1, 2))\n"
EXTRA = [{"text": "def helper():\n    return 41\n", "time": 1733300000, "filename": "util.py"},
         {"text": "ANSWER = 42\n", "time": 1733300100, "filename": "consts.py"}]
FIM_SUFFIX, FIM_PREFIX, FIM_MIDDLE = 4, 3, 5  # the tiny tokenizer's ids


def encoder(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def spm(enc: Any, prefix: str, suffix: str) -> list[int]:
    return [FIM_SUFFIX, *enc(suffix), FIM_PREFIX, *enc(prefix), FIM_MIDDLE]


def with_extra(prefix: str) -> str:
    """The repo-level layout of EXTRA before the edited file (no path sent: `untitled`)."""
    return ("<[file]> util.py\ndef helper():\n    return 41\n<[file]> consts.py\nANSWER = 42\n"
            "<[file]> untitled\n" + prefix)


class Spy:
    """Records the prompt ids the engine is asked to generate from."""

    def __init__(self, engine: Any) -> None:
        self.submit, self.seen = engine.submit, []

    def __call__(self, requests: Any) -> Any:
        self.seen.extend(r.prompt_ids for r in requests)
        return self.submit(requests)


@pytest.fixture
def spy(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> Spy:
    recorder = Spy(server.built.engine)
    monkeypatch.setattr(server.built.engine, "submit", recorder)
    return recorder


def events(resp: httpx.Response) -> list[Any]:
    """SSE `data:` payloads (JSON, or the `[DONE]` marker as a string)."""
    out: list[Any] = []
    for line in resp.text.splitlines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_llama_vim_infill(server: ServerThread, spy: Spy, tiny_model_dir: Path) -> None:
    body = {  # llama.vim's llama#fim request (autoload/llama.vim)
        "input_prefix": BEFORE, "input_suffix": AFTER, "input_extra": EXTRA, "prompt": LINE,
        "n_predict": 128, "stop": [], "n_indent": 4, "top_k": 40, "top_p": 0.90,
        "samplers": ["top_k", "top_p", "infill"], "stream": False, "cache_prompt": True,
        "t_max_prompt_ms": 500, "t_max_predict_ms": 1000,
        "response_fields": ["content", "timings/prompt_n", "timings/prompt_ms",
                            "timings/prompt_per_token_ms", "timings/prompt_per_second",
                            "timings/predicted_n", "timings/predicted_ms",
                            "timings/predicted_per_token_ms", "timings/predicted_per_second",
                            "truncated", "tokens_cached"],
    }
    resp = httpx.post(f"{server.base_url}/infill", json=body, timeout=120)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert set(out) == set(body["response_fields"])  # exactly the fields asked for
    assert isinstance(out["content"], str) and out["truncated"] is False
    expected = spm(encoder(tiny_model_dir), with_extra(BEFORE + LINE), AFTER)
    assert spy.seen == [expected] and out["timings/prompt_n"] == len(expected)


def test_llama_vim_ring_buffer_update(server: ServerThread, spy: Spy,
                                      tiny_model_dir: Path) -> None:
    body = {  # llama.vim sends its context chunks with n_predict 0 to warm the cache
        "input_prefix": "", "input_suffix": "", "input_extra": EXTRA, "prompt": "",
        "n_predict": 0, "temperature": 0.0, "stream": False, "samplers": [],
        "cache_prompt": True, "t_max_prompt_ms": 1, "t_max_predict_ms": 1,
        "response_fields": [""],
    }
    resp = httpx.post(f"{server.base_url}/infill", json=body, timeout=120)
    assert resp.status_code == 200 and resp.json() == {}
    assert spy.seen == [spm(encoder(tiny_model_dir), with_extra(""), "")]


def test_llama_vscode_infill_streamed_and_whole(server: ServerThread, spy: Spy,
                                                tiny_model_dir: Path) -> None:
    body = {  # llama.vscode's createRequestPayload (llama-server.ts)
        "input_prefix": BEFORE, "input_suffix": AFTER, "input_extra": EXTRA, "prompt": LINE,
        "n_predict": 24, "top_k": 40, "top_p": 0.99, "stream": False,
        "samplers": ["top_k", "top_p", "infill"], "cache_prompt": True, "n_indent": 4,
        "t_max_prompt_ms": 500, "t_max_predict_ms": 2500, "seed": 3, "ignore_eos": True,
    }
    whole = httpx.post(f"{server.base_url}/infill", json=body, timeout=120).json()
    assert whole["stop"] is True and whole["stop_type"] in ("limit", "eos")
    assert whole["tokens_evaluated"] == len(spy.seen[0])
    assert spy.seen[0] == spm(encoder(tiny_model_dir), with_extra(BEFORE + LINE), AFTER)
    streamed = httpx.post(f"{server.base_url}/infill", json={**body, "stream": True},
                          timeout=120)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    chunks = events(streamed)
    assert "[DONE]" not in chunks  # llama.cpp's own stream ends with its final object
    assert all(c["stop"] is False for c in chunks[:-1]) and chunks[-1]["stop"] is True
    assert "".join(c["content"] for c in chunks) == whole["content"]  # same seed, same text


def test_continue_probes_then_fills_through_ollama(server: ServerThread, spy: Spy,
                                                   tiny_model_dir: Path,
                                                   model_name: str) -> None:
    base = server.base_url
    tags = httpx.get(f"{base}/api/tags").json()
    assert tags["models"][0]["name"] == f"{model_name}:latest"
    show = httpx.post(f"{base}/api/show", json={"name": model_name}).json()
    assert "insert" in show["capabilities"] and ".Suffix" in show["template"]
    assert show["model_info"]["llama.context_length"] == server.built.facts.context_length
    body = {  # Continue's Ollama._streamFim
        "model": model_name, "prompt": BEFORE + LINE, "suffix": AFTER,
        "options": {"temperature": 0.01, "num_predict": 12, "stop": ["\n\n\n"],
                    "num_ctx": 8096},
        "keep_alive": 1800, "stream": True,
    }
    resp = httpx.post(f"{base}/api/generate", json=body, timeout=120)
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in resp.text.splitlines()]
    assert all(not x["done"] for x in lines[:-1]) and lines[-1]["done"] is True
    assert lines[-1]["done_reason"] in ("stop", "length")
    assert lines[-1]["eval_count"] <= 12 and "response" in lines[-1]
    assert spy.seen == [spm(encoder(tiny_model_dir), BEFORE + LINE, AFTER)]
    unknown = httpx.post(f"{base}/api/generate", json={**body, "model": "codellama:7b"})
    assert unknown.status_code == 404 and isinstance(unknown.json()["error"], str)


def test_template_filling_clients_get_the_same_ids(server: ServerThread, spy: Spy,
                                                   tiny_model_dir: Path,
                                                   model_name: str) -> None:
    """Tabby (openai/completion, prompt_template) and Continue (raw Ollama) fill the FIM
    template from the docs themselves; the prompt they send reads as the same ids."""
    from codekiln_core.fim import fim_template, find_fim_tokens

    tokens = find_fim_tokens(server.built.facts.tokenizer)
    template = fim_template(tokens, "spm", "{prefix}", "{suffix}")
    assert template == "<[fim-suffix]>{suffix}<[fim-prefix]>{prefix}<[fim-middle]>"
    filled = template.format(prefix=BEFORE + LINE, suffix=AFTER)
    tabby = {"model": model_name, "prompt": filled, "max_tokens": 8, "temperature": 0.1,
             "stream": True, "presence_penalty": 0.0}
    assert httpx.post(f"{server.base_url}/v1/completions", json=tabby,
                      timeout=120).status_code == 200
    raw = {"model": model_name, "prompt": filled, "raw": True, "stream": False,
           "options": {"num_predict": 8}}
    assert httpx.post(f"{server.base_url}/api/generate", json=raw,
                      timeout=120).json()["done"] is True
    expected = spm(encoder(tiny_model_dir), BEFORE + LINE, AFTER)
    assert spy.seen == [expected, expected]


def test_minuet_codestral_and_openai_fim(server: ServerThread, spy: Spy,
                                         tiny_model_dir: Path, model_name: str) -> None:
    codestral = {"model": model_name, "prompt": BEFORE + LINE, "suffix": AFTER,
                 "max_tokens": 16, "stop": ["\n\n"], "stream": True}
    resp = httpx.post(f"{server.base_url}/v1/fim/completions", json=codestral, timeout=120)
    chunks = events(resp)
    assert chunks[-1] == "[DONE]" and chunks[0]["object"] == "chat.completion.chunk"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert "\n\n" not in text
    whole = httpx.post(f"{server.base_url}/v1/fim/completions",
                       json={**codestral, "stream": False}, timeout=120).json()
    assert whole["choices"][0]["message"]["role"] == "assistant"
    openai_fim = {"model": model_name, "prompt": BEFORE + LINE, "suffix": AFTER,
                  "max_tokens": 16, "top_p": 0.9, "stream": True}
    assert events(httpx.post(f"{server.base_url}/v1/completions", json=openai_fim,
                             timeout=120))[-1] == "[DONE]"
    expected = spm(encoder(tiny_model_dir), BEFORE + LINE, AFTER)
    assert spy.seen == [expected] * 3


def test_repository_files_on_the_other_protocols(server: ServerThread, spy: Spy,
                                                 tiny_model_dir: Path,
                                                 model_name: str) -> None:
    files = [{"path": c["filename"], "content": c["text"]} for c in EXTRA]
    common = {"model": model_name, "prompt": BEFORE + LINE, "suffix": AFTER,
              "files": files, "path": "calc/add.py"}
    httpx.post(f"{server.base_url}/v1/completions", json={**common, "max_tokens": 2},
               timeout=120).raise_for_status()
    httpx.post(f"{server.base_url}/v1/fim/completions", json={**common, "max_tokens": 2},
               timeout=120).raise_for_status()
    httpx.post(f"{server.base_url}/api/generate", json={
        **common, "stream": False, "options": {"num_predict": 2}}, timeout=120).raise_for_status()
    lead = with_extra(BEFORE + LINE).replace("<[file]> untitled", "<[file]> calc/add.py")
    assert spy.seen == [spm(encoder(tiny_model_dir), lead, AFTER)] * 3


def test_infill_limits_and_refusals(server: ServerThread) -> None:
    """n_indent holds on the real route (the rule itself: test_infill.py); a bad value is a
    422 naming the field."""
    body = {"input_prefix": BEFORE, "input_suffix": AFTER, "prompt": LINE, "n_predict": 64,
            "n_indent": 4, "temperature": 0, "ignore_eos": True}
    out = httpx.post(f"{server.base_url}/infill", json=body, timeout=120).json()
    later_lines = out["content"].split("\n")[1:]
    assert all(line.startswith("    ") or not line.strip() for line in later_lines[:-1])
    bad = httpx.post(f"{server.base_url}/infill", json={**body, "n_predict": -5})
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "n_predict"
