"""The thread rule: explicit beats environment beats the machine; never above cores, never 0."""

from __future__ import annotations

import os

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.threads import available_cores, local_workers, pick_threads, use_threads


@pytest.mark.parametrize(("requested", "env", "expected"), [
    (3, {"CODEKILN_THREADS": "1"}, 3),        # --threads wins over the environment
    (None, {"CODEKILN_THREADS": "2"}, 2),
    (None, {"CODEKILN_THREADS": "2", "OMP_NUM_THREADS": "4"}, 2),
    (None, {"OMP_NUM_THREADS": "4"}, 4),
    (64, {}, 8),                               # never more threads than cores
    (None, {"CODEKILN_THREADS": "64"}, 8),
])
def test_explicit_counts_are_kept_up_to_the_cores(requested: int | None, env: dict[str, str],
                                                  expected: int) -> None:
    assert pick_threads(requested, cores=8, workers=4, busy=8.0, env=env) == expected


@pytest.mark.parametrize(("cores", "workers", "busy", "expected"), [
    (8, 1, 0.0, 8),   # a quiet machine: every core
    (8, 4, 0.0, 2),   # four ranks share the host
    (8, 3, 0.0, 2),
    (2, 1, 1.0, 1),   # one busy process next to us on 2 cores
    (2, 1, 3.3, 1),   # an overloaded machine still gets a thread
    (8, 2, 1.0, 4),   # the sibling rank is not counted as other work
    (8, 2, 3.0, 3),
    (1, 8, 0.0, 1),
])
def test_default_is_the_idle_cores_over_the_workers(cores: int, workers: int, busy: float,
                                                    expected: int) -> None:
    assert pick_threads(cores=cores, workers=workers, busy=busy, env={}) == expected


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_environment_value_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"\$CODEKILN_THREADS='{value}'.*unset it"):
        pick_threads(cores=4, env={"CODEKILN_THREADS": value})


def test_the_machine_is_read_from_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert 1 <= available_cores() <= (os.cpu_count() or 1)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    monkeypatch.setenv("LOCAL_SIZE", "3")  # DeepSpeed's launcher
    assert local_workers() == 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # torchrun
    assert local_workers() == 2
    assert 1 <= pick_threads() <= available_cores()


def test_use_threads_sets_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.setenv("CODEKILN_THREADS", "1")
    try:
        assert use_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_training_leaves_the_load_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run and its resume must pick the same count whatever else the machine is doing."""
    from codekiln_core import threads

    monkeypatch.setattr(threads, "busy_cores", lambda cores: float(cores))  # a fully busy host
    assert pick_threads(cores=4, workers=2, env={}) == 2
    assert pick_threads(cores=4, workers=1, env={}, load_aware=True) == 1
