"""Sampler throughput on the one generation layer vs the per-package ``generate`` loops it
replaced, on the same model, prompts, sampling settings and lengths.

eval: 32 HumanEval prompts x n=8 samples x 64 new tokens (T=0.6, top_p=0.8, repetition
penalty 1.05: ``eval run``'s defaults). The peer is the old serial path: HF ``generate`` one
task at a time, its n samples as ``num_return_sequences``. Ours is ``eval run``'s local
generator: a chunk of tasks, every sample of every task, on the in-process continuous-batching
engine, seeded per task.

GRPO: one step's rollouts, 8 prompts x 8 rollouts x 64 new tokens (T=1). The peer is the old
rollout sampler: one ``generate`` over the 8 left-padded prompts with 8 return sequences each.
Ours samples the same model object in place, each prompt seeded, as ``posttrain grpo`` does.

Both sides count the tokens they generated (a sample may end early at end-of-sequence), so
the ratio is of tokens per second; runs interleave the sides, numbers are medians of --runs.
Model: the serve benchmark's random ~16 M-parameter Llama (byte-level BPE of 8192 tokens)
in float32 on CPU with --threads torch threads.

    OMP_NUM_THREADS=1 uv run python benchmarks/sampling_throughput.py [--runs 3] [--threads 1]
    # on a GPU: --device cuda --dtype bfloat16
    uv run python benchmarks/sampling_throughput.py --toy   # a 0.1 M-parameter model, seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

from _common import parse_args, print_ratio
from serve_throughput import bench_model_dir, peer_model

TOY = {"runs": 1, "tasks": 2, "samples": 2, "new_tokens": 4, "prompts": 2, "rollouts": 2}


def humaneval_prompts(count: int) -> list[str]:
    import codekiln_benchmark_data
    from codekiln_eval.benchmarks import HumanEval

    return [t.prompt for t in HumanEval(data=codekiln_benchmark_data.root()).tasks(limit=count)]


def peer_eval(model: Any, tok: Any, prompts: list[str], n: int, new: int) -> int:
    """The old eval path: one task at a time, n samples per ``generate``; tokens made."""
    import torch

    made = 0
    for i, text in enumerate(prompts):
        ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
        ids = ids.to(model.device)
        torch.manual_seed(i)
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new,
                                 num_return_sequences=n, do_sample=True, temperature=0.6,
                                 top_p=0.8, repetition_penalty=1.05, pad_token_id=1)
        made += new_tokens(out[:, ids.shape[1]:], tok.eos_token_id)
    return made


def peer_rollouts(model: Any, tok: Any, prompts: list[list[int]], n: int, new: int) -> int:
    """The old GRPO sampler: one batched ``generate`` over left-padded prompts."""
    import torch

    width = max(map(len, prompts))
    ids = torch.tensor([[1] * (width - len(p)) + p for p in prompts], device=model.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                        device=model.device)
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0,
                             top_p=1.0, max_new_tokens=new, num_return_sequences=n,
                             pad_token_id=1, eos_token_id=tok.eos_token_id)
    return new_tokens(out[:, width:], tok.eos_token_id)


def new_tokens(rows: Any, eos: int) -> int:
    """Generated tokens up to and including each row's first end-of-sequence."""
    total = 0
    for row in rows.tolist():
        total += row.index(eos) + 1 if eos in row else len(row)
    return total


def ours_eval(generator: Any, prompts: list[str], n: int, new: int) -> int:
    from codekiln_eval.generate.base import Prompt, SamplingParams

    params = SamplingParams(max_tokens=new, seed=0)
    tasks = [Prompt(f"task/{i}", text=p) for i, p in enumerate(prompts)]
    made = 0
    step = generator.tasks_per_call(n)
    for start in range(0, len(tasks), step):
        chunk = tasks[start:start + step]
        requests = [generator.request(p, n, params) for p in chunk]
        made += sum(len(s.token_ids) for group in generator.generator.generate(requests)
                    for s in group)
    return made


def ours_rollouts(generator: Any, prompts: list[list[int]], n: int, new: int) -> int:
    from codekiln_core.generation import GenerationRequest, SamplingParams, sample_seed

    params = SamplingParams(temperature=1.0, max_new_tokens=new)
    requests = [GenerationRequest(prompt_ids=tuple(p), n=n, params=params,
                                  seed=sample_seed(0, i)) for i, p in enumerate(prompts)]
    return sum(len(s.token_ids) for group in generator.generate(requests) for s in group)


def timed(work: Any, *args: Any) -> float:
    """Tokens per second of one call of ``work`` (which returns the tokens it made)."""
    start = time.perf_counter()
    tokens = work(*args)
    return float(tokens / (time.perf_counter() - start))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parse_args(parser, TOY)

    import torch

    from codekiln_core.generation import GeneratorSpec, open_generator
    from codekiln_eval.models import ModelSpec, make_generator

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = bench_model_dir(tmp, args.toy)
        model, tok, params = peer_model(model_dir, args)
        spec = ModelSpec("local", str(model_dir), model_dir)
        evaluator = make_generator(spec)
        policy = open_generator(GeneratorSpec(loaded=(model, tok), engine="transformers",
                                              max_batch=args.prompts * args.rollouts))
        prompts = humaneval_prompts(args.tasks)
        rollout_prompts = [tok(p, add_special_tokens=False).input_ids
                           for p in humaneval_prompts(args.prompts)]
        sides = {"eval": (lambda: timed(peer_eval, model, tok, prompts, args.samples,
                                        args.new_tokens),
                          lambda: timed(ours_eval, evaluator, prompts, args.samples,
                                        args.new_tokens)),
                 "grpo": (lambda: timed(peer_rollouts, model, tok, rollout_prompts,
                                        args.rollouts, args.new_tokens),
                          lambda: timed(ours_rollouts, policy, rollout_prompts, args.rollouts,
                                        args.new_tokens))}
        results: dict[tuple[str, str], list[float]] = {}
        try:
            for run in range(args.runs):
                for what, (peer, ours) in sides.items():
                    results.setdefault((what, "peer"), []).append(peer())
                    results.setdefault((what, "ours"), []).append(ours())
                    print(f"run {run + 1}/{args.runs} {what}: peer "
                          f"{results[(what, 'peer')][-1]:.0f} tok/s, ours "
                          f"{results[(what, 'ours')][-1]:.0f} tok/s", flush=True)
        finally:
            evaluator.close()
            policy.close()
    print(f"\nmodel {params:.1f} M params, {args.device} {args.dtype}, {args.threads} threads, "
          f"{args.new_tokens} new tokens, median of {args.runs} runs, load average "
          f"{load:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| sampler | peer tok/s | ours tok/s | ratio |")
    print("|---|---|---|---|")
    for what in sides:
        peer_med = statistics.median(results[(what, "peer")])
        ours_med = statistics.median(results[(what, "ours")])
        print(f"| {what} | {peer_med:.0f} | {ours_med:.0f} | **{ours_med / peer_med:.2f}x** |")
    for what in sides:
        print_ratio(f"{what} sampling tokens/s, ours / generate",
                    statistics.median(results[(what, "ours")])
                    / statistics.median(results[(what, "peer")]))


if __name__ == "__main__":
    main()
