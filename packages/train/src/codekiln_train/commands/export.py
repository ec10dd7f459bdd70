"""``codekiln train export MODEL --output DIR``: release a registered model version as a
standalone Hugging Face directory (and optionally upload it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_core.config import RecipeModel


class ExportRecipe(RecipeModel):
    """Which registered version, where it goes, and whether it is uploaded."""

    model: str = Field(pattern=r"^models:/", description="registered model version: "
                       "models:/NAME/N or models:/NAME/latest")
    output: Path = Field(description="new directory for the HF checkpoint")
    push_to_hub: str | None = Field(None, description="also upload it to this Hub repo "
                                    "(OWNER/NAME); HF_ENDPOINT picks the server")
    hub_token: str | None = Field(None, description="Hub token (default: HF_TOKEN or the "
                                  "saved login)")
    private: bool = Field(False, description="create the Hub repo as private")


def export_release(invocation: Invocation[ExportRecipe]) -> Outcome:
    """Download the version atomically into the output; upload it when asked."""
    from codekiln_train.release import release

    recipe = invocation.recipe
    result = release(recipe.model, recipe.output, invocation.run,
                     push_to_hub=recipe.push_to_hub, hub_token=recipe.hub_token,
                     private=recipe.private)
    lines = [f"exported: {result.output}"]
    if result.commit_url:
        lines.append(f"hub commit: {result.commit_url}")
    return Outcome(lines=lines)


COMMAND = Command(
    name="train.export", recipe=ExportRecipe, work=export_release,
    help="Write MODEL as a standard Hugging Face checkpoint directory (and optionally upload "
         "it).",
    inputs="model", resumable=False, step="export")
