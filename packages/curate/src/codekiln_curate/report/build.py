"""Write the run report next to the output: report.md, report.html, report/*.png.

Content depends only on the output data (no timings, no run ids), so reruns and resumed
runs produce the same report; timings go to ``_state/timings.json`` and MLflow instead.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from codekiln_curate.engine import layout
from codekiln_curate.engine.cluster import lost_nodes_line
from codekiln_curate.engine.plan import Plan
from codekiln_curate.engine.storage import write_json, write_text
from codekiln_curate.report.plots import column_values, numeric_signals, write_histogram

Table = tuple[list[str], list[list[Any]]]


def stage_table(summary: dict[str, Any]) -> Table:
    rows = []
    for name, s in summary["stages"].items():
        dropped = sum(v[0] for v in s["reasons"].values())
        dropped_bytes = sum(v[1] for v in s["reasons"].values())
        rows.append([name, s["in_docs"], s["out_docs"], dropped, s["in_bytes"],
                     s["out_bytes"], dropped_bytes])
    return (["stage", "in docs", "kept docs", "dropped docs", "in bytes", "kept bytes",
             "dropped bytes"], rows)


def reason_table(summary: dict[str, Any]) -> Table:
    rows = [[name, reason, docs, size]
            for name, s in summary["stages"].items()
            for reason, (docs, size) in s["reasons"].items()]
    return ["stage", "reason", "docs", "bytes"], rows


def language_table(summary: dict[str, Any]) -> Table:
    rows = [[lang, *counts] for lang, counts in summary["languages"].items()]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return ["language", "kept docs", "kept bytes", "dropped docs", "dropped bytes"], rows


def dropped_samples(out: Path, per_reason: int, chars: int) -> dict[tuple[str, str], list[Any]]:
    """Up to ``per_reason`` dropped documents per (stage, reason), in output order."""
    samples: dict[tuple[str, str], list[Any]] = {}
    if per_reason == 0:
        return samples
    columns = ["drop_stage", "drop_reason", "repo", "path", "language", "content"]
    for path in sorted((out / "dropped").glob("part-*.parquet")):
        for row in pq.read_table(path, columns=columns).to_pylist():
            bucket = samples.setdefault((row["drop_stage"], row["drop_reason"]), [])
            if len(bucket) < per_reason:
                bucket.append([row["repo"], row["path"], row["language"],
                               (row["content"] or "")[:chars]])
    return dict(sorted(samples.items()))


def _markdown_table(table: Table) -> str:
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(table: Table) -> str:
    head, rows = table
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def write_report(out: Path, plan: Plan, summary: dict[str, Any]) -> list[Path]:
    spec = plan.recipe.report
    stats_only = {k: v for k, v in summary.items()}
    stats_only["stages"] = {n: {k: v for k, v in s.items() if k != "seconds"}
                            for n, s in summary["stages"].items()}
    write_json(stats_only, out / "summary.json")
    write_json({n: s.get("seconds", 0.0) for n, s in summary["stages"].items()},
               layout.state_dir(out) / "timings.json")
    images = _histograms(out, plan, spec.histogram_bins)
    samples = dropped_samples(out, spec.samples_per_reason, spec.sample_chars)
    tables = [("Stages", stage_table(summary)), ("Drop reasons", reason_table(summary)),
              ("Languages", language_table(summary))]
    md_path, html_path = out / "report.md", out / "report.html"
    write_text(_markdown(summary, tables, images, samples), md_path)
    write_text(_html(summary, tables, images, samples), html_path)
    return [md_path, html_path, out / "summary.json", *[out / i for i in images]]


def _histograms(out: Path, plan: Plan, bins: int) -> list[str]:
    kept_files = sorted((out / "data").glob("part-*.parquet"))
    dropped_files = sorted((out / "dropped").glob("part-*.parquet"))
    images = []
    for signal in numeric_signals(plan.final_signal_fields):
        rel = f"report/hist-{signal}.png"
        if write_histogram(signal, column_values(kept_files, signal),
                           column_values(dropped_files, signal), bins, out / rel):
            images.append(rel)
    return images


def _totals_line(summary: dict[str, Any]) -> str:
    t = summary["totals"]
    line = (f"{t['in_docs']} documents in ({t['in_bytes']} bytes), {t['kept_docs']} kept "
            f"({t['kept_bytes']} bytes), {t['dropped_docs']} dropped, {t['shards']} shards.")
    return " ".join(part for part in (line, lost_nodes_line(summary)) if part)


def _markdown(summary: dict[str, Any], tables: list[tuple[str, Table]], images: list[str],
              samples: dict[tuple[str, str], list[Any]]) -> str:
    parts = [f"# Curation report: {summary['name']}", "", _totals_line(summary), ""]
    for title, table in tables:
        parts += [f"## {title}", "", _markdown_table(table), ""]
    if images:
        parts += ["## Signal histograms", ""] + [f"![{i}]({i})" for i in images] + [""]
    parts += ["## Dropped samples", ""]
    for (stage, reason), rows in samples.items():
        parts.append(f"### {stage}: {reason}")
        for repo, path, lang, text in rows:
            parts += ["", f"`{repo}/{path}` ({lang or 'unknown'})", "", "```",
                      text.replace("```", "ʼʼʼ"), "```"]
        parts.append("")
    return "\n".join(parts) + "\n"


def _html(summary: dict[str, Any], tables: list[tuple[str, Table]], images: list[str],
          samples: dict[tuple[str, str], list[Any]]) -> str:
    esc = html.escape
    body = [f"<h1>Curation report: {esc(summary['name'])}</h1>",
            f"<p>{esc(_totals_line(summary))}</p>"]
    for title, table in tables:
        body += [f"<h2>{esc(title)}</h2>", _html_table(table)]
    if images:
        body += ["<h2>Signal histograms</h2>"] + [f'<img src="{esc(i)}" alt="{esc(i)}">'
                                                  for i in images]
    body.append("<h2>Dropped samples</h2>")
    for (stage, reason), rows in samples.items():
        body.append(f"<h3>{esc(stage)}: {esc(reason)}</h3>")
        for repo, path, lang, text in rows:
            body += [f"<p><code>{esc(f'{repo}/{path}')}</code> ({esc(lang or 'unknown')})</p>",
                     f"<pre>{esc(text)}</pre>"]
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px}pre{background:#f6f6f6}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Curation report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
