"""Serving throughput: codekiln's transformers engine (continuous batching behind the HTTP
API, streamed to the official openai client) vs one-request-at-a-time HF ``generate`` on the
same model, prompts and lengths.

c requests arrive at once. The peer serves them one after another with
``model.generate`` (greedy, exactly --new-tokens each); a request's time to first token is
its wait in line plus its own first token. Ours serves them concurrently through
``codekiln serve``'s app (uvicorn in a thread of this process, the client in the main
thread, so both sides share the one process). Runs interleave peer and ours per setting;
each number is the median of --runs runs.

Model: a random Llama of ~16 M parameters (hidden 384, 6 layers, GQA 8/4 heads) with a
byte-level BPE of 8192 tokens trained on standard-library modules (so every generated id is
text), in float32 on CPU: batching matters, and a run takes seconds.

    uv run python benchmarks/serve_throughput.py [--runs 3] [--new-tokens 64] [--threads 2]
    # on a GPU: --device cuda --dtype bfloat16 (the transformers engine in bf16)
    uv run python benchmarks/serve_throughput.py --toy   # a 0.1 M-parameter model, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import parse_args, print_ratio

MODEL = dict(hidden_size=384, intermediate_size=1024, num_hidden_layers=6,
             num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=2048)
VOCAB = 8192
TEXTS = 120  # standard-library modules the tokenizer is trained on
TOY_MODEL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024)
TOY = {"runs": 1, "new_tokens": 4, "concurrency": [1, 4], "threads": 1}


def tokenizer_texts(count: int) -> list[str]:
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py") if 5_000 < p.stat().st_size < 60_000)
    return [p.read_text(errors="replace") for p in files[:count]]


def prompts(count: int) -> list[str]:
    from codekiln_core.testing import TINY_CORPUS

    texts = list(TINY_CORPUS.values())
    return [f"# task {i}\n" + texts[i % len(texts)] for i in range(count)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_token_streamer() -> Any:
    """A ``generate`` streamer whose ``at`` is the time the first new token came out."""
    from transformers.generation.streamers import BaseStreamer

    class FirstToken(BaseStreamer):
        def __init__(self) -> None:
            self.calls, self.at = 0, 0.0

        def put(self, value: Any) -> None:
            self.calls += 1
            if self.calls == 2:  # the first put is the prompt
                self.at = time.perf_counter()

        def end(self) -> None:
            return None

    return FirstToken()


def peer(model: Any, tok: Any, texts: list[str], new: int, device: str) -> dict[str, float]:
    import torch

    start = time.perf_counter()
    ttfts, tokens = [], 0
    with torch.inference_mode():
        for text in texts:
            ids = torch.tensor([tok(text)["input_ids"]], device=device)
            streamer = first_token_streamer()
            out = model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False,
                                 pad_token_id=1, streamer=streamer)
            ttfts.append(streamer.at - start)
            tokens += out.shape[1] - ids.shape[1]
    wall = time.perf_counter() - start
    return {"tok_s": tokens / wall, "ttft_p50": percentile(ttfts, 0.5),
            "ttft_p99": percentile(ttfts, 0.99)}


async def ours_async(base_url: str, name: str, texts: list[str], new: int) -> dict[str, float]:
    from codekiln_core.clients import async_openai_client

    client = async_openai_client(base_url, max_retries=0, timeout_s=600)
    start = time.perf_counter()

    async def one(text: str) -> tuple[float, int]:
        stream = await client.completions.create(
            model=name, prompt=text, max_tokens=new, temperature=0, stream=True,
            stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
        first, used = 0.0, 0
        async for chunk in stream:
            if chunk.choices and not first:
                first = time.perf_counter() - start
            if chunk.usage:
                used = chunk.usage.completion_tokens
        return first, used

    try:
        results = await asyncio.gather(*(one(t) for t in texts))
    finally:
        await client.close()
    wall = time.perf_counter() - start
    ttfts = [r[0] for r in results]
    return {"tok_s": sum(r[1] for r in results) / wall, "ttft_p50": percentile(ttfts, 0.5),
            "ttft_p99": percentile(ttfts, 0.99)}


def bench_model_dir(tmp: str, toy: bool) -> Path:
    """The benchmarks' random Llama with its BPE (``toy``: the 0.1 M one), saved in ``tmp``."""
    from codekiln_serve.testing import build_tiny_model

    shape, vocab, texts = (TOY_MODEL, 512, 10) if toy else (MODEL, VOCAB, TEXTS)
    return build_tiny_model(Path(tmp) / "bench-model", tokenizer_vocab=vocab,
                            tokenizer_texts=tokenizer_texts(texts), **shape)


def peer_model(model_dir: Path, args: argparse.Namespace) -> tuple[Any, Any, float]:
    """The peer's model (on ``args.device`` in ``args.dtype``) and tokenizer, and its size in
    M parameters."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(model_dir),
                                                 dtype=getattr(torch, args.dtype))
    model = model.to(args.device).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    return model, AutoTokenizer.from_pretrained(str(model_dir)), params


def both_sides(model_dir: Path, args: argparse.Namespace) -> tuple[Any, Any, float, Any]:
    """The peer's model, tokenizer and size, and our server's settings (same directory,
    device, dtype and threads)."""
    from codekiln_serve.settings import ServeSettings

    model, tok, params = peer_model(model_dir, args)
    settings = ServeSettings(model=str(model_dir), engine="transformers", port=0,
                             lineage=False, threads=args.threads, device=args.device,
                             dtype=args.dtype, max_batch=32)
    return model, tok, params, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parse_args(parser, TOY)

    import torch

    from codekiln_serve.testing import ServerThread

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = bench_model_dir(tmp, args.toy)
        model, tok, params, settings = both_sides(model_dir, args)
        results: dict[tuple[str, int], list[dict[str, float]]] = {}
        with ServerThread(settings) as srv:
            name = srv.built.names[0]
            asyncio.run(ours_async(srv.base_url, name, prompts(2), 4))  # warm-up
            peer(model, tok, prompts(1), 4, args.device)
            for run in range(args.runs):
                for c in args.concurrency:
                    texts = prompts(c)
                    results.setdefault(("peer", c), []).append(
                        peer(model, tok, texts, args.new_tokens, args.device))
                    results.setdefault(("ours", c), []).append(
                        asyncio.run(ours_async(srv.base_url, name, texts, args.new_tokens)))
                    print(f"run {run + 1}/{args.runs} c={c}: peer "
                          f"{results[('peer', c)][-1]['tok_s']:.0f} tok/s, ours "
                          f"{results[('ours', c)][-1]['tok_s']:.0f} tok/s", flush=True)
    print(f"\nmodel {params:.1f} M params, {args.device} {args.dtype}, {args.threads} threads, "
          f"{args.new_tokens} new tokens per request, median of {args.runs} runs, "
          f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| c | generate tok/s | ours tok/s | ratio of medians | median of per-run ratios "
          "| generate TTFT p50 / p99 | ours TTFT p50 / p99 |")
    print("|---|---|---|---|---|---|---|")
    ratios: dict[int, float] = {}
    for c in args.concurrency:
        med = {side: {k: statistics.median(r[k] for r in results[(side, c)])
                      for k in ("tok_s", "ttft_p50", "ttft_p99")} for side in ("peer", "ours")}
        p, o = med["peer"], med["ours"]
        paired = statistics.median(ours["tok_s"] / theirs["tok_s"] for ours, theirs in zip(
            results[("ours", c)], results[("peer", c)], strict=True))
        print(f"| {c} | {p['tok_s']:.0f} | {o['tok_s']:.0f} | **{o['tok_s'] / p['tok_s']:.2f}x** "
              f"| {paired:.2f}x "
              f"| {p['ttft_p50'] * 1000:.0f} / {p['ttft_p99'] * 1000:.0f} ms "
              f"| {o['ttft_p50'] * 1000:.0f} / {o['ttft_p99'] * 1000:.0f} ms |")
        ratios[c] = o["tok_s"] / p["tok_s"]
    for c, ratio in ratios.items():
        print_ratio(f"tokens/s, ours / generate, c={c}", ratio)


if __name__ == "__main__":
    main()
