"""What a run's curves cost: ``plots/curves.png`` + ``curves.json`` drawn as a lineage run ends.

Each round makes two runs in a throwaway SQLite store, interleaved: the same 200-step
training-like metric log (loss, val_loss every 50 steps, lr, throughput) with the curves
hook on, and with ``CODEKILN_PLOTS=0``. The difference of the medians is the hook's cost
per run (draw, save, log two artifacts); the log itself is shown for scale. matplotlib's
first import in a fresh process is measured separately (paid once per process, only by runs
that draw), as is a data command's run (no metric with two steps: nothing is imported).

Usage: uv run python benchmarks/plots_cost.py [--rounds 5] [--steps 200]
       uv run python benchmarks/plots_cost.py --toy    # one round of 20 steps, seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_args, print_ratio


def one_run(steps: int, plots: bool) -> tuple[float, float]:
    """(seconds logging the metrics, seconds from the body's end to the run's end)."""
    from codekiln_core.lineage import lineage_run

    os.environ["CODEKILN_PLOTS"] = "1" if plots else "0"
    with lineage_run("train.pretrain", config={"steps": steps}) as run:
        started = time.perf_counter()
        for step in range(1, steps + 1):
            metrics = {"loss": 4.0 / step, "lr": 1e-3, "tokens_per_s": 1e4, "mfu": 0.3}
            if step % 50 == 0:
                metrics["val_loss"] = 4.5 / step
            run.log_metrics(metrics, step=step)
        logged = time.perf_counter()
    return logged - started, time.perf_counter() - logged


def cold_import_ms() -> float:
    code = ("import time; t = time.perf_counter(); import matplotlib; matplotlib.use('Agg'); "
            "from matplotlib.figure import Figure; print((time.perf_counter() - t) * 1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--cold-imports", type=int, default=3,
                        help="fresh processes timing matplotlib's first import (median)")
    args = parse_args(parser, {"rounds": 1, "steps": 20, "cold_imports": 1})
    with tempfile.TemporaryDirectory(prefix="codekiln-plots-bench-") as tmp:
        store = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
        os.environ["CODEKILN_ARTIFACT_ROOT"] = str(store / "artifacts")
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        measure(args)


def measure(args: argparse.Namespace) -> None:
    """Warm the store, then the interleaved rounds, in the store main() points MLflow at."""
    from codekiln_core.lineage import lineage_run

    with lineage_run("warm-up") as warm:  # store migrations, first imports
        warm.log_metrics({"x": 1.0})
    one_run(5, plots=True)  # matplotlib imported and warm: the steady state of a process
    on_end, off_end, log_times = [], [], []
    for _ in range(args.rounds):
        for plots, ends in ((True, on_end), (False, off_end)):
            logged, end = one_run(args.steps, plots)
            ends.append(end)
            log_times.append(logged)
    with lineage_run("curate.run") as data_run:  # a data command: no curve, no import
        started = time.perf_counter()
        data_run.log_metrics({"docs_kept": 10.0})
    data_end = time.perf_counter() - started
    on, off = statistics.median(on_end), statistics.median(off_end)
    cold = statistics.median(cold_import_ms() for _ in range(args.cold_imports))
    print(f"{args.steps}-step run, median of {args.rounds} rounds (interleaved):")
    print(f"  logging the metrics:           {statistics.median(log_times) * 1000:8.1f} ms")
    print(f"  run end with curves:           {on * 1000:8.1f} ms")
    print(f"  run end without (PLOTS=0):     {off * 1000:8.1f} ms")
    print(f"  curves hook per run:           {(on - off) * 1000:8.1f} ms  "
          f"(x{on / off:.1f} the plain run end)")
    print(f"  matplotlib first import:       {cold:8.1f} ms  (once per process that draws)")
    print(f"  data command run end:          {data_end * 1000:8.1f} ms  (nothing drawn)")
    print_ratio("run end, curves on / off (CODEKILN_PLOTS=0)", on / off)


if __name__ == "__main__":
    main()
