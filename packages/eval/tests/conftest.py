"""Shared fixtures of the eval tests: the benchmark data root and a tiny random HF model."""

from __future__ import annotations

from pathlib import Path

import pytest

import codekiln_benchmark_data
from codekiln_core.testing import TINY_LLAMA
from codekiln_eval.benchmarks import HumanEval

DATA = codekiln_benchmark_data.root()  # the bundled copy: no checkout outside the repository needed
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def build_tiny_model(out: Path, special: list[str], bos: str, pad: str, eos: str) -> Path:
    """A random tiny Llama with a byte-level BPE trained on a few KB of HumanEval code."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    corpus = [t.prompt + t.record["canonical_solution"] for t in HumanEval(data=DATA).tasks()]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus[:40], trainers.BpeTrainer(
        vocab_size=TINY_LLAMA["vocab_size"], special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, pad_token=pad,
                                   eos_token=eos)
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**TINY_LLAMA)).save_pretrained(out)  # ids 0-2: BOS PAD EOS
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No FIM tokens: a plain base model."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), ["<s>", "<pad>", "</s>"],
                            "<s>", "<pad>", "</s>")


@pytest.fixture(scope="session")
def tiny_fim_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Seed-Coder special tokens (FIM sentinels 3, 4, 5), as codekiln's tokenizers have."""
    from codekiln_core.special_tokens import BOS, EOS, PAD, SPECIAL_TOKENS

    return build_tiny_model(tmp_path_factory.mktemp("tiny-fim-model"), list(SPECIAL_TOKENS),
                            BOS, PAD, EOS)
