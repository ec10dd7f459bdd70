"""``codekiln curate web ...``: code-related web pages (see docs/web.md).

extract -> seeds -> train-classifier -> classify -> rate; each step reads the previous
step's output directory (``pages.parquet``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

web_app = typer.Typer(no_args_is_help=True, help="Code-related web pages: HTML -> text with "
                      "code kept, fastText recall classifier, LLM rating per category.")

_NoLineage = Annotated[bool, typer.Option("--no-lineage", help="do not log to MLflow")]


def register(app: typer.Typer) -> None:
    app.add_typer(web_app, name="web")


@web_app.command("extract")
def extract_command(
    source: Annotated[Path, typer.Argument(
        help="directory of .html files, or a JSONL/Parquet file with an html column")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    min_words: Annotated[int, typer.Option(
        "--min-words", min=0, help="drop pages with fewer words (spec: 10)")] = 10,
    html_column: Annotated[str, typer.Option(
        "--html-column", help="field holding the HTML in JSONL/Parquet input")] = "html",
    no_lineage: _NoLineage = False,
) -> None:
    """Extract text (code blocks kept verbatim, fenced) from every page of SOURCE."""
    from codekiln_curate.web.extract import run_extract

    result = run_extract(source, output, min_words=min_words, html_column=html_column,
                         lineage=not no_lineage)
    stats = result.stats
    typer.echo(f"kept {stats['kept']} of {stats['pages']} pages "
               f"({stats['with_code_tags']} with code tags); dropped "
               f"{stats['dropped_per_reason'] or 0}")
    typer.echo(f"pages: {result.pages}")


@web_app.command("seeds")
def seeds_command(
    pages: Annotated[Path, typer.Argument(help="output directory of `web extract`")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
) -> None:
    """Split extracted pages into heuristic positives/negatives (code-like <pre> vs none)."""
    from codekiln_curate.web.recall_jobs import run_seeds

    stats = run_seeds(pages, output)
    typer.echo(f"positives {stats['positives']}, negatives {stats['negatives']}, "
               f"ambiguous (left out) {stats['ambiguous']}")
    typer.echo(f"--positives {output / 'positives'} --negatives {output / 'negatives'}")


@web_app.command("train-classifier")
def train_command(
    positives: Annotated[Path, typer.Option("--positives", help="code-related pages "
                                            "(a pages dir or pages.parquet)")],
    negatives: Annotated[Path, typer.Option("--negatives", help="other pages")],
    output: Annotated[Path, typer.Option("--output", "-o", help="model directory")],
    target_recall: Annotated[float, typer.Option(
        "--target-recall", help="threshold is chosen for this validation recall")] = 0.99,
    seed: Annotated[int, typer.Option("--seed", help="split and training seed")] = 0,
    epoch: Annotated[int, typer.Option("--epoch", min=1, help="fastText epochs")] = 25,
    validation_share: Annotated[float, typer.Option(
        "--validation-share", min=0.05, max=0.95, help="share held out (spec: 0.3)")] = 0.3,
    no_lineage: _NoLineage = False,
) -> None:
    """Train the fastText recall classifier; print validation precision/recall/F1."""
    from codekiln_curate.web.classifier import TrainParams
    from codekiln_curate.web.recall_jobs import run_train

    params = TrainParams(seed=seed, epoch=epoch, validation_share=validation_share)
    result = run_train(positives, negatives, output, target_recall=target_recall,
                       params=params, lineage=not no_lineage)
    meta = result.stats
    m, v = meta["metrics"], meta["validation"]
    typer.echo(f"validation: {v['positives']} positives, {v['negatives']} negatives")
    typer.echo(f"threshold {m['threshold']:.4f} (target recall {target_recall}): "
               f"precision {m['precision']:.3f} recall {m['recall']:.3f} F1 {m['f1']:.3f}")
    at_half = meta["metrics_at_0_5"]
    typer.echo(f"at 0.5: precision {at_half['precision']:.3f} recall {at_half['recall']:.3f} "
               f"F1 {at_half['f1']:.3f}")
    typer.echo(f"model: {output}")
    if result.run_id:
        typer.echo(f"mlflow run: {result.run_id}")


@web_app.command("classify")
def classify_command(
    dataset: Annotated[Path, typer.Argument(help="output directory of `web extract`")],
    model: Annotated[Path, typer.Option("--model", help="output of `web train-classifier`")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="override the model's threshold")] = None,
    no_lineage: _NoLineage = False,
) -> None:
    """Score pages with the recall classifier; keep those at or above the threshold."""
    from codekiln_curate.web.recall_jobs import run_classify

    result = run_classify(dataset, model, output, threshold=threshold, lineage=not no_lineage)
    stats = result.stats
    typer.echo(f"kept {stats['kept']} of {stats['pages']} pages at threshold "
               f"{stats['threshold']:.4f}")
    typer.echo(f"pages: {output / 'pages.parquet'}")


@web_app.command("rate")
def rate_command(
    dataset: Annotated[Path, typer.Argument(help="output directory of `web classify` or "
                                            "`web extract`")],
    output: Annotated[Path, typer.Option("--output", "-o", help="output directory")],
    recipe: Annotated[Path | None, typer.Option(
        "--recipe", help="recipe YAML (teacher, category_thresholds, max_chars, cache)")] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", help="override a recipe key, e.g. --set category_thresholds.qa-forum=3")
    ] = None,
    no_lineage: _NoLineage = False,
) -> None:
    """Rate pages 0-10 with a teacher model; keep them by per-category thresholds."""
    from codekiln_curate.web.rate import load_rate_recipe, run_rate

    parsed = load_rate_recipe(recipe, list(overrides or []))
    result = run_rate(dataset, output, parsed, lineage=not no_lineage)
    stats = result.stats
    typer.echo(f"rated {stats['rated']} of {stats['pages']} pages, kept {stats['kept']} "
               f"({stats['unparsable']} unparsable, {stats['failed']} failed; "
               f"{stats['requests']} requests, {stats['cache_hits']} cache hits)")
    typer.echo(f"kept per category: {stats['kept_per_category']}")
    if result.run_id:
        typer.echo(f"mlflow run: {result.run_id}")
