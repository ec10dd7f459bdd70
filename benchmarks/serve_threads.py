"""Thread oversubscription: the server's single-stream decode idle vs next to a busy process,
with torch's default thread count (one per core) and with codekiln's thread rule.

For each setting and condition a fresh server (``codekiln serve``'s app, transformers
engine, uvicorn in a thread of this process) answers one greedy request of --new-tokens
tokens at a time; tokens/s is completion tokens over the request's wall time. Under load,
--load-procs processes each spin a single-threaded torch matmul loop, started before the
server (the rule reads the machine at start-up, as a server started on a shared machine
does). Settings alternate within each run; each number is the median of --runs runs.

"default": ``--threads`` = what torch picks in a fresh process (one thread per core), the
old behaviour. "rule": no ``--threads``, so ``codekiln_core.threads.pick_threads`` decides.
$CODEKILN_THREADS and $OMP_NUM_THREADS are cleared first, so neither side inherits them.

    uv run python benchmarks/serve_threads.py [--runs 3] [--new-tokens 64] [--load-procs 1]
    uv run python benchmarks/serve_threads.py --toy   # a 0.1 M-parameter model, seconds
"""

from __future__ import annotations

import os

for _name in ("CODEKILN_THREADS", "OMP_NUM_THREADS"):  # before torch is imported anywhere
    os.environ.pop(_name, None)

import argparse  # noqa: E402 (the environment above must be clean before any import)
import contextlib  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from _common import parse_args, print_ratio  # noqa: E402
from serve_throughput import bench_model_dir, prompts  # noqa: E402

TOY = {"runs": 1, "new_tokens": 4, "requests": 1}
#: One busy core: a single-threaded matmul loop, ready once its first product is done.
LOAD = ("import torch\ntorch.set_num_threads(1)\na = torch.randn(384, 384)\n"
        "a = (a @ a).tanh()\nprint('ready', flush=True)\nwhile True:\n    a = (a @ a).tanh()\n")


@contextlib.contextmanager
def background_load(procs: int) -> Iterator[None]:
    """``procs`` busy processes, each up and spinning before the block starts."""
    started = [subprocess.Popen([sys.executable, "-c", LOAD], stdout=subprocess.PIPE,
                                text=True) for _ in range(procs)]
    try:
        for process in started:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield
    finally:
        for process in started:
            process.kill()
            process.wait()


def decode_tok_s(model_dir: Path, threads: int | None, new: int,
                 requests: int) -> tuple[float, int]:
    """Median tokens/s of ``requests`` single requests (after one warm-up) on a fresh server,
    and the server's torch threads."""
    import torch

    from codekiln_core.clients import openai_client
    from codekiln_serve.settings import ServeSettings
    from codekiln_serve.testing import ServerThread

    settings = ServeSettings(model=str(model_dir), engine="transformers", port=0,
                             lineage=False, threads=threads, device="cpu", dtype="float32")
    with ServerThread(settings) as srv:
        used = torch.get_num_threads()
        client = openai_client(srv.base_url, max_retries=0, timeout_s=600)
        name = srv.built.names[0]
        speeds = []
        for i, text in enumerate(prompts(requests + 1)):
            start = time.perf_counter()
            done = client.completions.create(model=name, prompt=text, max_tokens=new,
                                             temperature=0, extra_body={"ignore_eos": True})
            wall = time.perf_counter() - start
            if i:  # the first request warms the engine up
                assert done.usage is not None
                speeds.append(done.usage.completion_tokens / wall)
    return statistics.median(speeds), used


def measure(model_dir: Path, args: argparse.Namespace,
            default_threads: int) -> dict[tuple[str, str], list[tuple[float, int]]]:
    settings: dict[str, int | None] = {"default": default_threads, "rule": None}
    results: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for run in range(args.runs):
        for condition in ("idle", "load"):
            for name, threads in settings.items():
                with background_load(args.load_procs if condition == "load" else 0):
                    tok_s, used = decode_tok_s(model_dir, threads, args.new_tokens,
                                                  args.requests)
                results.setdefault((name, condition), []).append((tok_s, used))
                print(f"run {run + 1}/{args.runs} {condition} {name}: {tok_s:.0f} tok/s with "
                      f"{used} threads", flush=True)
    return results


def report(results: dict[tuple[str, str], list[tuple[float, int]]],
           args: argparse.Namespace, params: float, load: float) -> None:
    med = {key: statistics.median(r[0] for r in runs) for key, runs in results.items()}
    used = {key: sorted({r[1] for r in runs}) for key, runs in results.items()}
    print(f"\nmodel {params:.1f} M params, cpu float32, {args.new_tokens} new tokens, "
          f"{os.cpu_count()} cores, {args.load_procs} busy process(es) under load, median of "
          f"{args.runs} runs, load average at start {load:.1f}")
    print("| threads | idle tok/s | under load tok/s | idle / load | threads idle / load |")
    print("|---|---|---|---|---|")
    for name in ("default", "rule"):
        idle, busy = med[(name, "idle")], med[(name, "load")]
        print(f"| {name} | {idle:.0f} | {busy:.0f} | **{idle / busy:.2f}x** "
              f"| {used[(name, 'idle')]} / {used[(name, 'load')]} |")
    for name in ("default", "rule"):
        print_ratio(f"decode tokens/s idle / under load, {name} threads",
                    med[(name, "idle")] / med[(name, "load")])
    print_ratio("decode tokens/s under load, rule / default",
                med[("rule", "load")] / med[("default", "load")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--load-procs", type=int, default=1)
    parser.add_argument("--requests", type=int, default=2, help="timed requests per server")
    args = parse_args(parser, TOY)

    import torch

    default_threads = torch.get_num_threads()  # a fresh process's choice: one per core
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = bench_model_dir(tmp, args.toy)
        params = sum(p.numel() for p in _model(model_dir).parameters()) / 1e6
        results = measure(model_dir, args, default_threads)
    report(results, args, params, load)


def _model(model_dir: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model_dir))


if __name__ == "__main__":
    main()
