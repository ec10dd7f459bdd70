"""Throughput, MFU and memory of a training run, and the table it ends with.

MFU = achieved model FLOP/s per device / the device's peak dense FLOP/s. Model FLOPs per
token come from ``codekiln_train.models.flops_per_token`` (6N plus the attention term; see
docs/train.md); the peak comes from :data:`PEAK_FLOPS` by device name, a measured matmul
rate on CPU, or the recipe's ``peak_flops`` (``--peak-flops``) override.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Peak dense bf16 tensor FLOP/s per device (vendor datasheets, no sparsity). Longest
#: matching name first, so "H100 PCIe" wins over "H100".
PEAK_FLOPS: dict[str, float] = {
    "B200": 2.25e15,
    "H200": 989e12,
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,      # SXM
    "H800": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "A800": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
    "A10": 125e12,
    "MI300X": 1307e12,
    "MI250X": 383e12,
}


def peak_flops_for(device_name: str) -> float | None:
    """The table entry whose key appears in ``device_name`` (longest key first)."""
    for key in sorted(PEAK_FLOPS, key=len, reverse=True):
        if key.lower() in device_name.lower():
            return PEAK_FLOPS[key]
    return None


_CPU_PEAK: float | None = None


def measured_cpu_flops(size: int = 512, repeats: int = 8) -> float:
    """fp32 matmul FLOP/s this process reaches now (with its torch thread count); cached.

    A CPU has no datasheet number we can read portably, and a loaded machine reaches less
    than its nominal peak: the measured rate is the honest denominator for CPU MFU.
    """
    global _CPU_PEAK
    if _CPU_PEAK is None:
        import torch

        a = torch.randn(size, size)
        b = torch.randn(size, size)
        torch.mm(a, b)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        _CPU_PEAK = 2 * size**3 / max(best, 1e-9)
    return _CPU_PEAK


def device_peak_flops(device_type: str, override: float | None = None) -> tuple[float, str]:
    """(peak FLOP/s of one device, where the number came from)."""
    if override:
        return float(override), "configured"
    if device_type == "cuda":
        import torch

        name = torch.cuda.get_device_name()
        peak = peak_flops_for(name)
        if peak is None:
            raise_unknown_device(name)
        assert peak is not None
        return peak, f"table:{name}"
    return measured_cpu_flops(), "measured-cpu-matmul"


def raise_unknown_device(name: str) -> None:
    from codekiln_core.errors import ConfigError

    raise ConfigError(f"no peak FLOP/s known for GPU {name!r}; pass its peak dense bf16 "
                      "FLOP/s as peak_flops (e.g. --peak-flops 989e12) to get MFU")


def mfu(tokens_per_s_per_device: float, flops_per_token: float, peak: float) -> float:
    return tokens_per_s_per_device * flops_per_token / peak if peak > 0 else 0.0


def memory_gb(device_type: str) -> float:
    """Peak allocated GPU memory, or this process's peak RSS on CPU, in GiB."""
    if device_type == "cuda":
        import torch

        return float(torch.cuda.max_memory_allocated()) / 2**30
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return peak_kb * scale / 2**30


@dataclass
class MetricsLog:
    """``metrics.jsonl`` beside the checkpoints: one line per logged step, flushed at once.

    On resume the lines after the checkpoint's step are dropped (that work is redone), so the
    file always reads as one uninterrupted run.
    """

    path: Path | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def truncate_after(self, step: int) -> None:
        """Keep the rows up to ``step`` (a torn last line goes too), one per line."""
        if self.path is None or not self.path.is_file():
            return
        from codekiln_core.fsio import atomic_write_text

        kept = [row for row in read_metrics(self.path) if row["step"] <= step]
        atomic_write_text(self.path, "".join(json.dumps(row, sort_keys=True) + "\n"
                                             for row in kept))

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The rows of ``metrics.jsonl``. A last line cut short (what ``kill -9`` mid-write
    leaves) is not a row and is dropped; a bad line before it is a one-line error."""
    lines = [(number, line) for number, line in enumerate(
        path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
        if line.strip()]
    rows: list[dict[str, Any]] = []
    for number, line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict) and "step" in row:
            rows.append(row)
        elif number != lines[-1][0]:
            from codekiln_core.errors import ConfigError

            raise ConfigError(f"{path}:{number} is not a metrics row ({line[:40]!r}); delete "
                              "that line (the rows after it are intact) and rerun")
    return rows
