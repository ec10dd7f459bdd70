"""Suite-wide settings: the test workers pytest-xdist starts (``-n auto``) and the threads
each may use, so that parallel workers do not oversubscribe the machine's cores."""

from __future__ import annotations

import os

import pytest

MAX_WORKERS = 4  # each worker loads torch, mlflow and friends (~1-2 GiB); more rarely pays


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, at most MAX_WORKERS; CODEKILN_TEST_WORKERS overrides."""
    if wanted := os.environ.get("CODEKILN_TEST_WORKERS"):
        return int(wanted)
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def pytest_configure(config: pytest.Config) -> None:
    """Give each worker (and the processes its tests start) its share of the cores, before
    torch is imported: torch's default of one thread per core, times N workers, thrashes."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        share = max(1, len(os.sched_getaffinity(0)) // workers)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(share))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest files first, so that no worker starts a many-minute file while the others run
    out of work: files that raise the per-test timeout (the end-to-end runs) lead, longest
    limit first, then files with ``slow`` tests; collection order otherwise. xdist keeps this
    order (``--no-loadscope-reorder``) and hands each file whole to the next free worker."""
    def file_weight(item: pytest.Item) -> tuple[float, int]:
        limits = [float(m.args[0]) for m in item.iter_markers("timeout") if m.args]
        return (-max(limits, default=0.0), 0 if item.get_closest_marker("slow") else 1)

    weights: dict[str, tuple[float, int]] = {}
    for item in items:
        weight = file_weight(item)
        weights[item.path.as_posix()] = min(weights.get(item.path.as_posix(), weight), weight)
    order = {path: rank for rank, path in enumerate(weights)}
    items.sort(key=lambda item: (*weights[item.path.as_posix()], order[item.path.as_posix()]))
