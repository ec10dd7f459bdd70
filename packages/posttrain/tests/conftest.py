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


@pytest.fixture(scope="session")
def base_model(tmp_path_factory: pytest.TempPathFactory, tokenizer_dir: Path) -> Path:
    """The tiny "pretrained" model without lineage, shared by the launched-run tests."""
    return pretrained_model(tmp_path_factory.mktemp("base"), tokenizer_dir, lineage=False)


#: A reward plugin as a user would install one: a module and its distribution's entry point.
REWARD_PLUGIN = '''"""Test reward: text-dependent, so a random model's groups vary."""
from codekiln_core.hookspecs import hookimpl


def shaped(prompts, completions, **_):
    return [(len(set(c)) % 7) / 7.0 for c in completions]


@hookimpl
def codekiln_register_rewards(register):
    register("shaped", shaped, description="test reward (TRL form)")
'''


@pytest.fixture(scope="session")
def reward_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that, on ``sys.path`` or PYTHONPATH, installs the ``shaped`` reward
    through a real ``codekiln`` entry point, in this process and in every launched rank."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "codekiln_test_rewards.py").write_text(REWARD_PLUGIN)
    info = root / "codekiln_test_rewards-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: codekiln-test-rewards\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text("[codekiln]\ntest-rewards = codekiln_test_rewards\n")
    return root


def launch_env(*paths: Path) -> dict[str, str]:
    """The environment of a launched command: no rank variables of this process's own
    one-process engine, one thread per process, CPU only, ``paths`` on PYTHONPATH."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in (
        "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "CODEKILN_FILLED_MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", MLFLOW_DISABLE_TELEMETRY="true")
    env.setdefault("TORCH_EXTENSIONS_DIR",
                   str(Path.home() / ".cache" / "codekiln" / "torch_extensions"))
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), env.get("PYTHONPATH", "")]).strip(
        os.pathsep)
    return env


def assert_same_training(one: Path, two: Path, keys: tuple[str, ...] | None = None) -> None:
    """Equal per-step metrics (``keys``, or every one) and equal weights, bit for bit."""
    import torch
    from safetensors.torch import load_file

    from codekiln_train.metrics import read_metrics

    def curve(output: Path) -> list[Any]:
        rows = read_metrics(output / "metrics.jsonl")
        return rows if keys is None else [[r["step"], *(r.get(k) for k in keys)] for r in rows]

    assert curve(two) == curve(one)
    weights = [load_file(str(out / "model" / "model.safetensors")) for out in (one, two)]
    assert weights[0].keys() == weights[1].keys()
    differ = [k for k in weights[0] if not torch.equal(weights[0][k], weights[1][k])]
    assert not differ, differ


def grpo_recipe(path: Path, base: Path, data: Path) -> Path:
    """Three GRPO steps of two prompts x two rollouts, rewarded by the test plugin."""
    import yaml

    recipe = {
        "model": str(base), "data": str(data), "max_seq_len": 256, "seed": 0,
        "decontamination": {"enabled": False}, "register_as": None,
        "grpo": {"prompts_per_step": 2, "lr": 1e-3, "temperature": 1.0,
                 "curriculum_samples": 2, "filter_overlong": False, "rewards": {"shaped": 1.0},
                 "stages": [{"steps": 3, "max_new_tokens": 8, "rollouts": 2}]},
        "engine": {"micro_batch_size": 1, "gradient_accumulation_steps": 1,
                   "weight_decay": 0.0},
        "schedule": {"kind": "constant", "warmup_steps": 0},
        "checkpoint": {"every_steps": 1, "keep_last": 2}}
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def grpo_one_rank(base_model: Path, reward_plugin: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(recipe, output) of the GRPO recipe run by one process accumulating 2 micro-batches
    (the reference of the 2-rank and the kill-and-resume tests)."""
    root = tmp_path_factory.mktemp("grpo")
    recipe = grpo_recipe(root / "grpo.yaml", base_model,
                         write_jsonl(root / "rl.jsonl", rl_rows()))
    from codekiln_core.cli.app import main

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(reward_plugin))
        assert main(["posttrain", "grpo", str(recipe), "-o", str(root / "one"), "--no-lineage",
                     "--set", "engine.gradient_accumulation_steps=2"]) == 0
    return recipe, root / "one"
