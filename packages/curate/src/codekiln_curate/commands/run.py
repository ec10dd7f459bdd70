"""``codekiln curate run [RECIPE] --output DIR``: read, filter, dedup, write Parquet and a
report; ``--resume`` continues a killed run from its finished shards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.recipe import CurateRecipe, load_resolved_recipe

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef


def curate(invocation: Invocation[CurateRecipe]) -> Outcome:
    """Run the recipe with progress bars on stderr; the summary tables close it."""
    from rich.console import Console

    from codekiln_curate.console import progress_bars, summary_tables
    from codekiln_curate.engine.curation import curation_metrics, run_curation
    from codekiln_curate.recipe import recipe_source

    recipe = invocation.recipe
    if invocation.recipe_file is None:  # the embedded default, as written, is the recipe
        default = recipe_source(None)
        if default is not None:
            invocation.run.log_artifact(default, "recipe")
    with progress_bars(Console(stderr=True), enabled=not recipe.quiet) as progress:
        result = run_curation(recipe, invocation.run, progress=progress)
    return Outcome(metrics=curation_metrics(result.summary),
                   table=summary_tables(result.summary),
                   lines=[f"output: {result.out_dir}", f"report: {result.out_dir / 'report.md'}"])


def input_datasets(recipe: CurateRecipe) -> Iterator[InputRef]:
    """Every input, checked to exist now; digested only when lineage records them."""
    from codekiln_curate.engine.inputs import existing_input_path
    from codekiln_curate.lineage_inputs import named_inputs

    return named_inputs(*[(f"inputs[{i}].path", existing_input_path(i, spec, recipe.source),
                           spec.name) for i, spec in enumerate(recipe.inputs)])


COMMAND = Command(
    name="curate.run", recipe=CurateRecipe, work=curate,
    help="Run RECIPE (default: the embedded one, stdlib + this git repo): read, filter, "
         "dedup, write Parquet and a report.",
    step="curate", key_metrics=("docs_in", "docs_kept", "bytes_kept"),
    short={"workers": "-w", "quiet": "-q"},
    load=load_resolved_recipe, lineage_inputs=input_datasets)
