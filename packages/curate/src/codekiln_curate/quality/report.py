"""The score command's summary (JSON) and a short Markdown report a person can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HISTOGRAM_BINS = 10


def histogram(scores: list[float]) -> list[int]:
    """Files per unit bin 0-1, 1-2, ..., 9-10 (10 goes in the last bin)."""
    bins = [0] * HISTOGRAM_BINS
    for score in scores:
        bins[min(HISTOGRAM_BINS - 1, int(score))] += 1
    return bins


def summarize(scores: list[float], thresholds: dict[str, float],
              counts: dict[str, dict[str, int]], options: dict[str, Any],
              keep: list[bool] | None = None) -> dict[str, Any]:
    """``histogram``: all files before the gate; ``histogram_kept``: those it kept (the
    two series of score_histogram.png)."""
    kept = sum(c["kept"] for c in counts.values())
    kept_scores = scores if keep is None else [s for s, k in zip(scores, keep, strict=True)
                                                if k]
    return {
        "files": len(scores), "kept": kept, "dropped": len(scores) - kept,
        "mean_score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "thresholds": {k: round(v, 4) for k, v in thresholds.items()},
        "per_language": counts, "histogram": histogram(scores),
        "histogram_kept": histogram(kept_scores),
        "options": options,
    }


def write_report(out: Path, summary: dict[str, Any]) -> None:
    from codekiln_curate.engine.storage import write_json, write_text

    write_json(summary, out / "score_summary.json")
    lines = ["# Quality scoring", "",
             f"{summary['files']} files scored, {summary['kept']} kept, "
             f"{summary['dropped']} dropped; mean score {summary['mean_score']}.", "",
             "| language | threshold | kept | dropped |", "|---|---:|---:|---:|"]
    thresholds = summary["thresholds"]
    for lang, entry in summary["per_language"].items():
        limit = thresholds.get(lang, thresholds.get("*", "-"))
        lines.append(f"| {lang} | {limit} | {entry['kept']} | {entry['dropped']} |")
    lines += ["", "Scores (files per bin):", "",
              "| " + " | ".join(f"{i}-{i + 1}" for i in range(HISTOGRAM_BINS)) + " |",
              "|" + "---:|" * HISTOGRAM_BINS,
              "| " + " | ".join(str(n) for n in summary["histogram"]) + " |", ""]
    write_text("\n".join(lines), out / "report.md")


def write_score_plot(out: Path) -> Path | None:
    """score_histogram.png: every file's score before the gate, as kept + dropped stacked,
    in the unit bins of score_summary.json (``histogram`` = kept + dropped bars,
    ``histogram_kept`` = the kept bars)."""
    from codekiln_curate.report.plots import column_values, write_histogram

    kept = column_values(sorted((out / "data").glob("*.parquet")), "quality_score")
    dropped = column_values(sorted((out / "dropped").glob("*.parquet")), "quality_score")
    path = out / "score_histogram.png"
    title = f"quality_score ({kept.size} kept, {dropped.size} dropped by the gate)"
    edges = [float(i) for i in range(HISTOGRAM_BINS + 1)]  # 0-1, ..., 9-10 (10 in the last)
    return path if write_histogram(title, kept, dropped, HISTOGRAM_BINS, path,
                                   edges=edges) else None
