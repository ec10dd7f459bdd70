"""Compare runs side by side: arms x seeds, metrics read from MLflow, mean ± std, differences.

An ablation is a few *arms* (rules only, rules + LLM filter), each run once per *seed*; an
arm's row for one seed may take metrics from several runs (the pretraining run's validation
loss, one eval run per benchmark). A run is named on the command line as

    [ARM[@SEED]=][PREFIX:]RUN_ID       e.g.  llm@1=mbpp:3f2a…  (metrics become mbpp/NAME)

and a metric as ``NAME[:final|min|max]`` (``final``: the value at the last logged step).
The difference of each arm from the baseline is paired by seed when both arms ran the same
seeds (its standard error is that of the per-seed differences), else the two means'
standard errors are combined.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from mlflow import MlflowClient

_SPEC = re.compile(r"^(?:(?P<arm>[^@=]+?)(?:@(?P<seed>\d+))?=)?"
                   r"(?:(?P<prefix>[A-Za-z0-9_.-]+):)?(?P<run>[0-9a-f]{32})$")
REDUCTIONS = ("final", "min", "max")


@dataclass(frozen=True)
class RunSpec:
    """One run of one arm and seed; its metrics are named PREFIX/NAME when it has a prefix."""

    run_id: str
    arm: str | None = None
    seed: int | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class MetricSpec:
    name: str  # as stored after prefixing, e.g. mbpp/pass_at_1
    reduction: str = "final"

    @property
    def label(self) -> str:
        return self.name if self.reduction == "final" else f"{self.name} ({self.reduction})"


def parse_run_spec(text: str) -> RunSpec:
    match = _SPEC.match(text.strip())
    if match is None:
        raise ConfigError(f"run {text!r}: expected [ARM[@SEED]=][PREFIX:]RUN_ID with a 32-hex "
                          "MLflow run id, e.g. llm@0=mbpp:" + "0" * 32)
    seed = match.group("seed")
    return RunSpec(match.group("run"), match.group("arm"), int(seed) if seed else None,
                   match.group("prefix"))


def parse_metric(text: str) -> MetricSpec:
    name, _, reduction = text.strip().rpartition(":") if ":" in text else (text, "", "final")
    reduction = reduction or "final"
    if not name or reduction not in REDUCTIONS:
        raise ConfigError(f"--metric {text!r}: expected NAME[:{'|'.join(REDUCTIONS)}], "
                          "e.g. val_loss:min or mbpp/pass_at_1")
    return MetricSpec(name.strip(), reduction)


@dataclass
class Row:
    """One arm at one seed: the metrics of every run given for it."""

    arm: str
    seed: int
    run_ids: list[str] = field(default_factory=list)
    values: dict[str, float | None] = field(default_factory=dict)


def _metric_value(client: MlflowClient, run_id: str, stored: str,
                  reduction: str) -> float | None:
    values = [float(m.value) for m in client.get_metric_history(run_id, stored)]
    return (min if reduction == "min" else max)(values) if values else None


def collect_rows(client: MlflowClient, specs: Sequence[RunSpec],
                 metrics: Sequence[MetricSpec]) -> list[Row]:
    """Rows in first-seen order of (arm, seed); a metric no run of the row has is None."""
    from mlflow.exceptions import MlflowException

    rows: dict[tuple[str, int], Row] = {}
    for spec in specs:
        try:
            run = client.get_run(spec.run_id)
        except MlflowException as exc:
            raise ConfigError(f"run {spec.run_id}: not in the MLflow store ({exc.message}); "
                              "check the id or MLFLOW_TRACKING_URI") from None
        arm = spec.arm or run.data.tags.get("mlflow.runName") or spec.run_id[:8]
        seed = spec.seed if spec.seed is not None else _seed_param(run.data.params)
        row = rows.setdefault((arm, seed), Row(arm, seed))
        row.run_ids.append(spec.run_id)
        prefix = f"{spec.prefix}/" if spec.prefix else ""
        for metric in metrics:
            stored = metric.name.removeprefix(prefix) if prefix else metric.name
            if (prefix and not metric.name.startswith(prefix)) \
                    or stored not in run.data.metrics:
                row.values.setdefault(metric.label, None)
                continue
            value = float(run.data.metrics[stored]) if metric.reduction == "final" \
                else _metric_value(client, spec.run_id, stored, metric.reduction)
            if row.values.get(metric.label) is not None:
                raise ConfigError(f"metric {metric.name!r} of {arm}@{seed} comes from two "
                                  "runs; give one of them a PREFIX: (e.g. mbpp:RUN_ID)")
            row.values[metric.label] = value
    return list(rows.values())


def _seed_param(params: dict[str, str]) -> int:
    try:
        return int(params.get("seed", 0))
    except ValueError:
        return 0


@dataclass(frozen=True)
class Summary:
    """One arm's metric over its seeds (std: sample std, None for one seed)."""

    n: int
    mean: float | None
    std: float | None
    values: tuple[float, ...]


#: Two-sided 95% Student-t critical values by degrees of freedom (a df between two rows
#: takes the smaller row's larger value: conservative). 1.96 beyond the table.
_T95 = ((1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (6, 2.447),
        (7, 2.365), (8, 2.306), (9, 2.262), (10, 2.228), (15, 2.131), (20, 2.086),
        (30, 2.042), (60, 2.000), (120, 1.980))


def t95(df: int) -> float:
    if df > _T95[-1][0]:
        return 1.96
    return next(critical for row_df, critical in reversed(_T95) if max(df, 1) >= row_df)


@dataclass(frozen=True)
class Difference:
    """``arm - baseline``; se None when fewer than two seeds allow no error estimate."""

    arm: str
    baseline: str
    metric: str
    diff: float | None
    se: float | None
    n: int
    paired: bool

    @property
    def ci95(self) -> float | None:
        """Half-width of the 95% interval (Student t, n - 1 degrees of freedom)."""
        return None if self.se is None else t95(max(1, self.n - 1)) * self.se

    @property
    def verdict(self) -> str:
        if self.diff is None:
            return "n/a"
        if self.ci95 is None:
            return "one seed: no error bar"
        if self.ci95 == 0 and self.diff == 0:
            return "no difference"
        return "95% CI excludes 0" if abs(self.diff) > self.ci95 else \
            "95% CI includes 0 (seed noise)"


def _std(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarize(values: Sequence[float]) -> Summary:
    mean = sum(values) / len(values) if values else None
    return Summary(len(values), mean, _std(values), tuple(values))


def arms_of(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(r.arm for r in rows))


def by_seed(rows: Sequence[Row], arm: str, metric: str) -> dict[int, float]:
    return {r.seed: v for r in rows if r.arm == arm and (v := r.values.get(metric)) is not None}


def difference(rows: Sequence[Row], arm: str, baseline: str, metric: str) -> Difference:
    mine, base = by_seed(rows, arm, metric), by_seed(rows, baseline, metric)
    if not mine or not base:
        return Difference(arm, baseline, metric, None, None, 0, False)
    if set(mine) == set(base):
        diffs = [mine[s] - base[s] for s in sorted(mine)]
        std = _std(diffs)
        se = std / math.sqrt(len(diffs)) if std is not None else None
        return Difference(arm, baseline, metric, sum(diffs) / len(diffs), se, len(diffs), True)
    a, b = summarize(list(mine.values())), summarize(list(base.values()))
    assert a.mean is not None and b.mean is not None
    se = math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n) \
        if a.std is not None and b.std is not None else None
    return Difference(arm, baseline, metric, a.mean - b.mean, se, min(a.n, b.n), False)


def comparison(rows: Sequence[Row], metrics: Sequence[MetricSpec],
               baseline: str | None = None) -> dict[str, Any]:
    """The whole comparison as JSON-ready data (comparison.json)."""
    arms = arms_of(rows)
    if not arms:
        raise ConfigError("nothing to compare: give at least one run")
    base = baseline or arms[0]
    if base not in arms:
        raise ConfigError(f"--baseline {base!r}: no such arm; arms: {', '.join(arms)}")
    labels = [m.label for m in metrics]
    summaries = {arm: {m: summarize(list(by_seed(rows, arm, m).values())).__dict__
                       for m in labels} for arm in arms}
    diffs = [difference(rows, arm, base, m) for arm in arms if arm != base for m in labels]
    return {
        "baseline": base, "arms": arms, "metrics": labels,
        "seeds": sorted({r.seed for r in rows}),
        "rows": [{"arm": r.arm, "seed": r.seed, "runs": r.run_ids, "metrics": r.values}
                 for r in rows],
        "summary": {arm: {m: {**s, "values": list(s["values"])} for m, s in per.items()}
                    for arm, per in summaries.items()},
        "differences": [{**d.__dict__, "ci95": d.ci95, "verdict": d.verdict}
                        for d in diffs],
    }


def comparison_metrics(data: dict[str, Any]) -> dict[str, float]:
    """What the compare run logs: per arm mean/std, per other arm the difference and its SE."""
    out: dict[str, float] = {}
    for arm, per in data["summary"].items():
        for metric, s in per.items():
            for key in ("mean", "std"):
                if s[key] is not None:
                    out[f"{_key(metric)}.{key}.{arm}"] = float(s[key])
    for d in data["differences"]:
        if d["diff"] is not None:
            out[f"{_key(d['metric'])}.diff.{d['arm']}"] = float(d["diff"])
        if d["se"] is not None:
            out[f"{_key(d['metric'])}.diff_se.{d['arm']}"] = float(d["se"])
    return out


def _key(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_./-]+", "_", label).strip("_")
