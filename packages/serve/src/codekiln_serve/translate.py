"""OpenAI requests to engine requests: prompt ids (plain, FIM, chat template), sampling
parameters with defaults, and the context-length checks. Shared by every token engine, so
transformers and vLLM see exactly the same ids and parameters for the same request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from codekiln_core.chat import (
    SEED_CODER_CHAT_TEMPLATE,
    SEED_CODER_REASONING_CHAT_TEMPLATE,
    SEED_CODER_SAMPLING_DEFAULTS,
)
from codekiln_core.fim import FimTokens, FimUnsupportedError
from codekiln_serve.api.errors import APIError
from codekiln_serve.api.schemas import ChatCompletionRequest, CompletionRequest
from codekiln_serve.engines.base import GenerationRequest
from codekiln_serve.fim import ContextFile, FimInput, fim_prompt, prompt_budget


@dataclass(frozen=True)
class Prompt:
    """One prompt's ids, the text echo shows, and whether code was cut to fit."""

    ids: list[int]
    text: str
    truncated: bool = False


@dataclass(frozen=True)
class ModelFacts:
    """What translation needs to know about the served model."""

    tokenizer: Any
    context_length: int
    eos_token_ids: frozenset[int]
    fim_tokens: FimTokens | None
    fim_layout: str = "spm"
    seed_coder_defaults: bool = False
    fim_context_tokens: int = 2048  # repository context a FIM prompt may carry

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)


def uses_seed_coder_template(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return template in (SEED_CODER_CHAT_TEMPLATE, SEED_CODER_REASONING_CHAT_TEMPLATE)


def completion_prompts(req: CompletionRequest, facts: ModelFacts, *,
                       truncate: bool = False) -> list[Prompt]:
    """The prompts of a completion request (a list prompt is several prompts); ``truncate``
    (editor protocols) cuts FIM code far from the cursor instead of refusing it."""
    tok = facts.tokenizer
    raw = req.prompt
    if isinstance(raw, str):
        items: list[str | list[int]] = [raw]
    elif raw and all(isinstance(x, int) for x in raw):
        items = [list(raw)]  # type: ignore[arg-type]
    else:
        items = list(raw)  # type: ignore[arg-type]
    if req.files and req.suffix is None:
        raise APIError(400, "`files` is repository context for fill-in-the-middle; send "
                            "`suffix` too (\"\" at the end of a file)", param="files")
    prompts: list[Prompt] = []
    for item in items:
        if req.suffix is not None:
            prompts.append(_fim_prompt(req, item, facts, truncate))
        elif isinstance(item, str):
            ids = list(tok(item, add_special_tokens=True)["input_ids"])
            prompts.append(Prompt(ids, item))
        else:
            bad = [i for i in item if i >= facts.vocab_size]
            if bad:
                raise APIError(400, f"prompt token id {bad[0]} is outside the vocabulary "
                                    f"(size {facts.vocab_size})", param="prompt")
            prompts.append(Prompt(item, str(tok.decode(item))))
    for prompt in prompts:
        if not prompt.ids:
            raise APIError(400, "the prompt is empty after tokenization; send some text",
                           param="prompt")
    return prompts


def _fim_prompt(req: CompletionRequest, item: str | list[int], facts: ModelFacts,
                truncate: bool) -> Prompt:
    assert req.suffix is not None
    if req.echo:
        raise APIError(400, "`echo` cannot be combined with `suffix` (as in OpenAI's API); "
                            "drop one", param="echo")
    if not isinstance(item, str):
        raise APIError(400, "`suffix` needs a text prompt (the code before the cursor), not "
                            "token ids", param="suffix")
    files = tuple(ContextFile(f.path, f.content) for f in req.files or ())
    fim = FimInput(item, req.suffix, files, req.path, truncate)
    try:
        built = fim_prompt(facts.tokenizer, facts.fim_tokens, facts.fim_layout, fim,
                           budget=prompt_budget(facts.context_length, req.max_tokens),
                           context_tokens=facts.fim_context_tokens)
    except FimUnsupportedError as exc:
        raise APIError(400, str(exc), param="suffix", code="fim_unsupported") from exc
    return Prompt(built.ids, item, built.truncated)


def chat_prompt(req: ChatCompletionRequest, facts: ModelFacts) -> Prompt:
    tok = facts.tokenizer
    if not getattr(tok, "chat_template", None):
        raise APIError(400, "this model has no chat template; use /v1/completions, or add a "
                            "chat_template to its tokenizer_config.json", param="messages")
    messages = [{"role": m.role if m.role != "developer" else "system", "content": m.text()}
                for m in req.messages]
    try:
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    except Exception as exc:  # jinja's raise_exception() and template errors: client input
        raise APIError(400, f"the chat template refused these messages: {exc}",
                       param="messages") from exc
    return Prompt(encode_chat(tok, str(text)), str(text))


def encode_chat(tokenizer: Any, text: str) -> list[int]:
    """The template wrote the control tokens itself; nothing more is added."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _stops(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [s for s in ([stop] if isinstance(stop, str) else stop) if s]


def _logit_bias(raw: dict[str, float] | None, vocab: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for key, value in (raw or {}).items():
        token = key.strip()
        if not (token.isascii() and token.isdigit()) or int(token) >= vocab:
            raise APIError(400, f"logit_bias key {key!r} is not a token id below {vocab}",
                           param="logit_bias")
        out[int(token)] = float(value)
    return out


def context_error(ctx: int, prompt_len: int, max_tokens: int | None) -> APIError:
    asked = f"{prompt_len} in the prompt" + (f" and {max_tokens} to generate"
                                             if max_tokens else "")
    return APIError(400, f"this model's maximum context length is {ctx} tokens; the request "
                         f"has {asked}; shorten the prompt or lower max_tokens",
                    param="max_tokens" if max_tokens else "messages",
                    code="context_length_exceeded")


def _budget(facts: ModelFacts, prompt_len: int, asked: int | None, default: int | None) -> int:
    room = facts.context_length - prompt_len
    if room <= 0 or (asked is not None and asked > room):
        raise context_error(facts.context_length, prompt_len, asked)
    if asked is not None:
        return asked
    return room if default is None else min(default, room)


@dataclass(frozen=True)
class Sampling:
    """Resolved sampling: the engine request template and what the API does itself."""

    template: GenerationRequest
    stops: list[str]
    n: int


def completion_sampling(req: CompletionRequest, facts: ModelFacts) -> Sampling:
    return _sampling(req, facts, logprobs=req.logprobs, defaults={},
                     prompt_logprobs=req.echo and req.logprobs is not None)


def chat_sampling(req: ChatCompletionRequest, facts: ModelFacts) -> Sampling:
    defaults = dict(SEED_CODER_SAMPLING_DEFAULTS) if facts.seed_coder_defaults else {}
    top = (req.top_logprobs or 0) if req.logprobs else None
    return _sampling(req, facts, logprobs=top, defaults=defaults, prompt_logprobs=False)


def _sampling(req: CompletionRequest | ChatCompletionRequest, facts: ModelFacts, *,
              logprobs: int | None, defaults: dict[str, float | int],
              prompt_logprobs: bool) -> Sampling:
    def pick(value: float | None, name: str, fallback: float) -> float:
        return float(value if value is not None else defaults.get(name, fallback))

    top_k = req.top_k if req.top_k is not None and req.top_k > 0 else 0
    template = GenerationRequest(
        prompt_ids=[], max_tokens=0,
        temperature=pick(req.temperature, "temperature", 1.0),
        top_p=pick(req.top_p, "top_p", 1.0),
        top_k=top_k,
        repetition_penalty=pick(req.repetition_penalty, "repetition_penalty", 1.0),
        presence_penalty=req.presence_penalty, frequency_penalty=req.frequency_penalty,
        logit_bias=_logit_bias(req.logit_bias, facts.vocab_size),
        seed=req.seed, stop_token_ids=facts.eos_token_ids, ignore_eos=req.ignore_eos,
        logprobs=logprobs,
        prompt_logprobs=prompt_logprobs,
    )
    return Sampling(template, _stops(req.stop), req.n)


def sequence_requests(sampling: Sampling, prompts: list[Prompt], facts: ModelFacts,
                      asked_max: int | None, default_max: int | None) -> list[GenerationRequest]:
    """n requests per prompt, in choice order (choice index = prompt * n + sample)."""
    out: list[GenerationRequest] = []
    for prompt in prompts:
        budget = _budget(facts, len(prompt.ids), asked_max, default_max)
        for sample in range(sampling.n):
            seed = None if sampling.template.seed is None else sampling.template.seed + sample
            out.append(replace(sampling.template, prompt_ids=prompt.ids, max_tokens=budget,
                               seed=seed))
    return out


def chat_max_tokens(req: ChatCompletionRequest, facts: ModelFacts) -> tuple[int | None,
                                                                            int | None]:
    asked = req.max_completion_tokens or req.max_tokens
    default = SEED_CODER_SAMPLING_DEFAULTS["max_tokens"] if facts.seed_coder_defaults else None
    return asked, (int(default) if default is not None else None)


__all__ = ["ModelFacts", "Prompt", "Sampling", "chat_prompt", "chat_sampling",
           "completion_prompts", "completion_sampling", "sequence_requests"]
