"""Test helpers other packages' tests use too: a tiny served model and a real server on a
free loopback port, run by uvicorn in a thread of the test process (one torch import)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from codekiln_core.chat import SEED_CODER_CHAT_TEMPLATE
from codekiln_core.net import free_port as free_port
from codekiln_core.special_tokens import BOS, EOS, PAD, SPECIAL_TOKENS
from codekiln_core.testing import TINY_CORPUS, TINY_LLAMA

CHAT_SNIPPETS = [
    "Write a Python function that adds two numbers.",
    "def add(a, b):\n    return a + b\n",
    "Rate this file from 0 to 10. Score: 7",
]


def build_tiny_tokenizer(out: Path, vocab_size: int = 512,
                         texts: list[str] | None = None) -> Any:
    """A byte-level BPE with the Seed-Coder special tokens first (ids 0-6) and its chat
    template, trained on the tiny corpus; saved as an HF tokenizer directory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  min_frequency=1, show_progress=False)
    corpus = texts if texts is not None else [*TINY_CORPUS.values(), *CHAT_SNIPPETS] * 4
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS,
                                   pad_token=PAD)
    fast.chat_template = SEED_CODER_CHAT_TEMPLATE
    fast.save_pretrained(str(out))
    return fast


def build_tiny_model(out: Path, *, seed: int = 0, tokenizer_vocab: int = 512,
                     tokenizer_texts: list[str] | None = None, **overrides: Any) -> Path:
    """A random tiny Llama + the tiny tokenizer in one HF directory (what `serve` loads);
    ``overrides`` are LlamaConfig fields. The model's vocabulary is the tokenizer's."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tok = build_tiny_tokenizer(out, tokenizer_vocab, tokenizer_texts)
    # 1024 positions: room for the Seed-Coder system prompt plus a chat answer
    settings = {**TINY_LLAMA, "max_position_embeddings": 1024, **overrides}
    config = LlamaConfig(**{**settings, "vocab_size": max(len(tok), TINY_LLAMA["vocab_size"])})
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(str(out))
    return out


class ServerThread:
    """``with ServerThread(settings) as srv:`` — srv.base_url, srv.built (engine, app)."""

    def __init__(self, settings: Any, registry: Any = None) -> None:
        from codekiln_serve.server import build

        if settings.port == 0:
            settings = settings.model_copy(update={"port": free_port()})
        self.settings = settings
        self.built = build(settings, registry)
        self.base_url = f"http://{settings.host}:{settings.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ServerThread:
        from codekiln_serve.server import uvicorn_server

        self._server = uvicorn_server(self.built, self.settings.host, self.settings.port,
                                      graceful_s=2)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def begin_shutdown(self) -> None:
        """Ask the server to stop, as a signal would (it drains, then closes)."""
        self._server.should_exit = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.begin_shutdown()
        if self._thread is not None:
            self._thread.join(timeout=30)
