"""Shared fixtures of the eval tests: the benchmark data root and a tiny random HF model."""

from __future__ import annotations

from pathlib import Path

import pytest

import codekiln_benchmark_data
from codekiln_core.testing import TINY_LLAMA
from codekiln_eval.benchmarks import HumanEval

DATA = codekiln_benchmark_data.root()  # the bundled copy: no ../shared needed
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny Llama with a byte-level BPE trained on a few KB of HumanEval code."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("tiny-model")
    corpus = [t.prompt + t.record["canonical_solution"] for t in HumanEval(data=DATA).tasks()]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus[:40], trainers.BpeTrainer(
        vocab_size=TINY_LLAMA["vocab_size"], special_tokens=["<s>", "<pad>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", pad_token="<pad>",
                                   eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**TINY_LLAMA)).save_pretrained(out)
    return out
