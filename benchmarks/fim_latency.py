"""Single-line FIM completion latency: codekiln serve (the transformers engine behind the HTTP
API, streamed to the official openai client) vs HF ``generate`` on the same FIM prompts.

The prompts are the first tasks of ``humaneval-infill-single-line`` (the code before and
after one line of a canonical solution), laid out as SPM ids by ``codekiln_core.fim`` for the
peer and by the server for ours (/v1/completions with ``suffix``), so both see the same ids.
Requests come in waves of c (the concurrency) arriving at once; the peer serves a wave one
request after another with ``model.generate`` (greedy), so its latency and time to first
token include the wait in line, as an editor's would behind a one-at-a-time server. Both
generate exactly --new-tokens tokens (EOS ignored: the same work on both sides). Each figure
is the median over --runs runs of that run's p50 / p99; runs interleave peer and ours.

Model: the 16 M-parameter Llama of serve_throughput.py (hidden 384, 6 layers, GQA 8/4) with
an 8192-token BPE trained on standard-library modules and the Seed-Coder special tokens.

    uv run python benchmarks/fim_latency.py [--runs 5] [--new-tokens 24] [--threads 2]
    uv run python benchmarks/fim_latency.py --toy      # seconds: what the test suite runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_ratio
from serve_throughput import (
    MODEL,
    VOCAB,
    both_sides,
    first_token_streamer,
    percentile,
    tokenizer_texts,
)

TOY_MODEL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048)


@dataclass(frozen=True)
class Sample:
    """One request's latency and time to first token, in seconds."""

    latency: float
    ttft: float


def fim_prompts(count: int) -> list[tuple[str, str]]:
    """(prefix, suffix) of the first single-line infilling tasks (the bundled HumanEval)."""
    import codekiln_benchmark_data
    from codekiln_eval.benchmarks import all_benchmarks

    bench = {c.name: c for c in all_benchmarks()}["humaneval-infill-single-line"]
    tasks = bench(data=codekiln_benchmark_data.root()).tasks(limit=count)
    return [(t.prompt, t.suffix or "") for t in tasks]


def peer_wave(model: Any, ids: list[list[int]], new: int, device: str) -> list[Sample]:
    """One wave served one request at a time; every time counts from the wave's arrival."""
    import torch

    start = time.perf_counter()
    out: list[Sample] = []
    with torch.inference_mode():
        for prompt in ids:
            streamer = first_token_streamer()
            model.generate(torch.tensor([prompt], device=device), max_new_tokens=new,
                           min_new_tokens=new, do_sample=False, pad_token_id=1,
                           streamer=streamer)
            out.append(Sample(time.perf_counter() - start, streamer.at - start))
    return out


async def ours_wave(client: Any, name: str, pairs: list[tuple[str, str]],
                    new: int) -> list[Sample]:
    """One wave sent at once to /v1/completions with suffix, streamed."""
    start = time.perf_counter()

    async def one(prefix: str, suffix: str) -> Sample:
        stream = await client.completions.create(
            model=name, prompt=prefix, suffix=suffix, max_tokens=new, temperature=0,
            stream=True, extra_body={"ignore_eos": True})
        first = 0.0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].text and not first:
                first = time.perf_counter() - start
        return Sample(time.perf_counter() - start, first)

    return list(await asyncio.gather(*(one(p, s) for p, s in pairs)))


async def ours_waves(base_url: str, name: str, waves: list[list[tuple[str, str]]],
                     new: int) -> list[Sample]:
    from codekiln_core.clients import async_openai_client

    client = async_openai_client(base_url, max_retries=0, timeout_s=600)
    try:
        samples: list[Sample] = []
        for wave in waves:
            samples.extend(await ours_wave(client, name, wave, new))
        return samples
    finally:
        await client.close()


def summarize(samples: list[Sample]) -> dict[str, float]:
    lat, ttft = [s.latency for s in samples], [s.ttft for s in samples]
    return {"p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99),
            "ttft_p50": percentile(ttft, 0.5), "ttft_p99": percentile(ttft, 0.99)}


def p50_ratio(results: dict[tuple[str, int], list[dict[str, float]]], c: int) -> float:
    """HF generate's median p50 latency over ours at concurrency ``c`` (> 1: we are faster)."""
    peer, ours = (statistics.median(r["p50"] for r in results[(side, c)])
                  for side in ("peer", "ours"))
    return peer / ours


def report(results: dict[tuple[str, int], list[dict[str, float]]], concurrency: list[int],
           ) -> list[str]:
    lines = ["| c | generate p50 / p99 | ours p50 / p99 | p50 ratio (generate / ours) "
             "| generate TTFT p50 / p99 | ours TTFT p50 / p99 |", "|---|---|---|---|---|---|"]
    for c in concurrency:
        med = {side: {k: statistics.median(r[k] for r in results[(side, c)])
                      for k in ("p50", "p99", "ttft_p50", "ttft_p99")}
               for side in ("peer", "ours")}
        p, o = med["peer"], med["ours"]
        lines.append(f"| {c} | {p['p50'] * 1e3:.0f} / {p['p99'] * 1e3:.0f} ms "
                     f"| {o['p50'] * 1e3:.0f} / {o['p99'] * 1e3:.0f} ms "
                     f"| **{p['p50'] / o['p50']:.2f}x** "
                     f"| {p['ttft_p50'] * 1e3:.0f} / {p['ttft_p99'] * 1e3:.0f} ms "
                     f"| {o['ttft_p50'] * 1e3:.0f} / {o['ttft_p99'] * 1e3:.0f} ms |")
    return lines


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--waves", type=int, default=4, help="waves of c requests per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--toy", action="store_true", help="a 2-layer model, one short run")
    args = parser.parse_args(argv)
    if args.toy:
        args.runs, args.new_tokens, args.waves, args.concurrency = 1, 4, 1, [1, 2]
    return args


def main(argv: list[str] | None = None) -> list[str]:
    args = parse(argv)
    import torch

    from codekiln_core.fim import fim_prompt_ids, find_fim_tokens
    from codekiln_serve.testing import ServerThread, build_tiny_model

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    pairs = fim_prompts(args.waves * max(args.concurrency))
    with tempfile.TemporaryDirectory() as tmp:
        if args.toy:
            model_dir = build_tiny_model(Path(tmp) / "toy", **TOY_MODEL)
        else:
            model_dir = build_tiny_model(Path(tmp) / "bench-16m", tokenizer_vocab=VOCAB,
                                         tokenizer_texts=tokenizer_texts(), **MODEL)
        model, tok, params, settings = both_sides(model_dir, args)
        tokens = find_fim_tokens(tok)
        ids = [fim_prompt_ids(tok, tokens, prefix, suffix) for prefix, suffix in pairs]
        results: dict[tuple[str, int], list[dict[str, float]]] = {}
        with ServerThread(settings) as srv:
            name = srv.built.names[0]
            asyncio.run(ours_waves(srv.base_url, name, [pairs[:2]], 2))  # warm-up
            peer_wave(model, ids[:1], 2, args.device)
            for run in range(args.runs):
                for c in args.concurrency:
                    waves = [list(range(w * c, (w + 1) * c)) for w in range(args.waves)]
                    peer = [s for wave in waves for s in peer_wave(
                        model, [ids[i] for i in wave], args.new_tokens, args.device)]
                    ours = asyncio.run(ours_waves(srv.base_url, name, [
                        [pairs[i] for i in wave] for wave in waves], args.new_tokens))
                    results.setdefault(("peer", c), []).append(summarize(peer))
                    results.setdefault(("ours", c), []).append(summarize(ours))
                    print(f"run {run + 1}/{args.runs} c={c}: p50 generate "
                          f"{results[('peer', c)][-1]['p50'] * 1e3:.0f} ms, ours "
                          f"{results[('ours', c)][-1]['p50'] * 1e3:.0f} ms", flush=True)
    lines = [f"model {params:.1f} M params, {args.device} {args.dtype}, {args.threads} "
             f"threads, {args.new_tokens} new tokens per request, {args.waves} waves of c "
             f"per run, median of {args.runs} runs, load average {load:.1f} -> "
             f"{os.getloadavg()[0]:.1f}", *report(results, args.concurrency)]
    print("\n" + "\n".join(lines))
    for c in args.concurrency:
        print_ratio(f"single-line FIM p50 latency, HF generate / ours at c={c}",
                    p50_ratio(results, c))
    return lines


if __name__ == "__main__":
    main()
