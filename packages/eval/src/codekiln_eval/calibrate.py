"""Per-check timeouts that scale with the machine.

A fixed CPU probe gives the machine factor (probe time / the probe's time on the reference
machine, never below 1); the floor timeout is ``base_timeout_s * factor``. With
``method="canonical"`` the reference solutions also run once (which doubles as a harness
self-check) and each check gets ``max(floor, multiplier * reference time)``, the EvalPlus
approach of scaling from ground-truth run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.execute import CheckJob, run_jobs

PROBE_CODE = "total = 0\nfor i in range(2_000_000):\n    total += i * i % 7\nprint(total)\n"
#: The probe's run time through the local sandbox on the reference machine (2-core VM).
PROBE_REFERENCE_S = 0.40
REFERENCE_MULTIPLIER = 4.0
METHODS = ("canonical", "probe", "off")


def probe_seconds(sandbox: Any, repeats: int = 3) -> float:
    """Fastest of a few probe runs (the minimum is the least noisy estimate)."""
    probe = Submission("python", PROBE_CODE)
    jobs = [CheckJob(("probe", i), "probe", probe, 60.0) for i in range(repeats)]
    rows = run_jobs(sandbox, jobs)
    times = [r["duration_s"] for r in rows if r["passed"]]
    if not times:
        raise ConfigError(f"the sandbox could not run the timing probe ({rows[0]['reason']}); "
                          "check the sandbox with `codekiln plugins list`")
    return float(min(times))


def calibrate(benchmark: Benchmark, tasks: Sequence[Task], sandbox: Any, method: str,
              base_timeout_s: float) -> dict[str, Any]:
    """The calibration record stored in the run directory and summary."""
    if method not in METHODS:
        raise ConfigError(f"--calibrate {method!r}; choose one of {', '.join(METHODS)}")
    if method == "off":
        factor, probe = 1.0, None
    else:
        probe = probe_seconds(sandbox)
        factor = max(1.0, probe / PROBE_REFERENCE_S)
    floor = round(base_timeout_s * factor, 2)
    record: dict[str, Any] = {
        "method": method, "machine_factor": round(factor, 3), "probe_s": probe,
        "probe_reference_s": PROBE_REFERENCE_S, "base_timeout_s": base_timeout_s,
        "floor_timeout_s": floor, "reference_multiplier": REFERENCE_MULTIPLIER,
        "timeouts": {}, "reference_failures": [], "reference_pass_rate": None,
    }
    refs = {t.task_id: benchmark.reference_solution(t) for t in tasks}
    if method != "canonical" or not any(refs.values()):
        if method == "canonical":
            record["method"] = "probe"  # nothing to time: no reference solutions
        return record
    jobs = [CheckJob((t.task_id, -1), name, check, max(300.0, 6 * floor))
            for t in tasks if refs[t.task_id] is not None
            for name, check in benchmark.checks(t, refs[t.task_id] or "").items()]
    failed: set[str] = set()
    for job, row in zip(jobs, run_jobs(sandbox, jobs), strict=True):
        per_task = record["timeouts"].setdefault(job.key[0], {})
        per_task[job.name] = round(max(floor, REFERENCE_MULTIPLIER * row["duration_s"]), 2)
        if not row["passed"]:
            failed.add(job.key[0])
    timed = len(record["timeouts"])
    record["reference_failures"] = sorted(failed)
    record["reference_pass_rate"] = (timed - len(failed)) / timed if timed else None
    return record


def timeout_for(calibration: dict[str, Any], task_id: str, check: str) -> float:
    return float(calibration["timeouts"].get(task_id, {}).get(check,
                                                              calibration["floor_timeout_s"]))
