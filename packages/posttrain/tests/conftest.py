"""Session fixtures: a tiny byte-level tokenizer with the Seed-Coder specials and chat
template, a tiny Llama sized to it, and small chat / preference / RL datasets."""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

import pytest

import codekiln_benchmark_data
from codekiln_core.testing import TINY_LLAMA

STDLIB = Path(sysconfig.get_paths()["stdlib"])

PROBLEMS: list[dict[str, Any]] = [
    {"id": "add", "prompt": "Write a Python function add(a, b) that returns a + b.",
     "solution": "def add(a, b):\n    return a + b\n",
     "wrong": "def add(a, b):\n    return a - b\n",
     "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]},
    {"id": "square", "prompt": "Write a Python function square(x) returning x squared.",
     "solution": "def square(x):\n    return x * x\n",
     "wrong": "def square(x):\n    return x + x\n",
     "tests": ["assert square(3) == 9", "assert square(-2) == 4"]},
    {"id": "rev", "prompt": "Write a Python function rev(s) that reverses a string.",
     "solution": "def rev(s):\n    return s[::-1]\n",
     "wrong": "def rev(s):\n    return s\n",
     "tests": ["assert rev('ab') == 'ba'", "assert rev('') == ''"]},
    {"id": "evens", "prompt": "Write a Python function evens(xs) keeping the even numbers.",
     "solution": "def evens(xs):\n    return [x for x in xs if x % 2 == 0]\n",
     "wrong": "def evens(xs):\n    return xs\n",
     "tests": ["assert evens([1, 2, 4]) == [2, 4]", "assert evens([1]) == []"]},
]


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def tokenizer_texts() -> list[str]:
    files = [p for p in sorted(STDLIB.glob("*.py")) if 3_000 < p.stat().st_size < 30_000][:30]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    texts += [p["prompt"] + fenced(p["solution"]) for p in PROBLEMS] * 20
    return texts


def build_tokenizer(out: Path, vocab_size: int = 768) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from codekiln_core.chat import write_chat_template
    from codekiln_core.special_tokens import (
        BOS,
        EOS,
        FIM_MIDDLE,
        FIM_PREFIX,
        FIM_SUFFIX,
        PAD,
        SEP,
        SPECIAL_TOKENS,
    )

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(tokenizer_texts(), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=BOS, eos_token=EOS,
                                   pad_token=PAD, clean_up_tokenization_spaces=False,
                                   additional_special_tokens=[FIM_PREFIX, FIM_SUFFIX,
                                                              FIM_MIDDLE, SEP])
    fast.save_pretrained(str(out))
    write_chat_template(out, "seed-coder")
    return out


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tokenizer(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


def tiny_model(vocab_size: int, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(**{**TINY_LLAMA, "vocab_size": vocab_size})
    config._attn_implementation = "eager"
    return LlamaForCausalLM(config).float()


def sft_rows() -> list[dict[str, Any]]:
    return [{"id": p["id"], "messages": [
        {"role": "user", "content": p["prompt"]},
        {"role": "assistant", "content": fenced(p["solution"])}]} for p in PROBLEMS]


def preference_rows() -> list[dict[str, Any]]:
    return [{"id": p["id"], "prompt": [{"role": "user", "content": p["prompt"]}],
             "chosen": fenced(p["solution"]), "rejected": fenced(p["wrong"])}
            for p in PROBLEMS]


def rl_rows() -> list[dict[str, Any]]:
    return [{"id": p["id"], "prompt": [{"role": "user", "content": p["prompt"]}],
             "tests": p["tests"], "language": "python"} for p in PROBLEMS]


#: The bundled benchmark copies (codekiln-benchmark-data): one folder per benchmark.
SHARED_BENCHMARKS = codekiln_benchmark_data.root()


def decontam_section() -> dict[str, Any]:
    """Decontamination against the bundled HumanEval/MBPP copies (fast to index)."""
    return {"benchmarks_dir": str(SHARED_BENCHMARKS), "benchmarks": ["humaneval", "mbpp"]}


def pretrained_model(root: Path, tokenizer_dir: Path, *, lineage: bool) -> Path:
    """The tiny "pretrained" model: codekiln_train's tiny preset, exported by export_hf
    inside a stand-in pretraining run whose raw input is a small code file."""
    from codekiln_core.chat import SEED_CODER_CHAT_TEMPLATE
    from codekiln_core.lineage import InputRef, lineage_run
    from codekiln_train.export import export_hf
    from codekiln_train.models import PRESETS, build_model

    raw = root / "raw" / "corpus.py"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("\n".join(tokenizer_texts()[:3]))
    from transformers import AutoTokenizer

    vocab = len(AutoTokenizer.from_pretrained(str(tokenizer_dir)))
    inputs = [InputRef.from_path(raw, name="raw-code")] if lineage else []
    with lineage_run("train.pretrain", config={"preset": "tiny"}, inputs=inputs,
                     enabled=lineage) as run:
        model = build_model(PRESETS["tiny"], vocab_size=vocab, bos_token_id=0, eos_token_id=2,
                            pad_token_id=1, seed=0)
        out = export_hf(model, tokenizer_dir=tokenizer_dir, out_dir=root / "base",
                        bos_token_id=0, eos_token_id=2, pad_token_id=1,
                        chat_template=SEED_CODER_CHAT_TEMPLATE)
        run.log_model(out, name="base-model", register_as="tiny-base")
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
