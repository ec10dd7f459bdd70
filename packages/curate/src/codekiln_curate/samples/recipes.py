"""The recipes of ``codekiln curate samples commits|repos``: inputs, output and size caps
(kept light: ``codekiln --help`` reads them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from codekiln_core.config import RecipeModel


class CommitLimits(RecipeModel):
    """Size caps of one commit sample; commits over them are skipped, counted by reason."""

    max_diff_bytes: int = Field(65536, ge=1, description="skip commits whose text diff is larger")
    max_files_changed: int = Field(20, ge=1, description="skip commits touching more files")
    max_input_bytes: int = Field(131072, ge=1024, description="input size cap; lower-ranked "
                                 "context files are left out to fit")
    max_context_file_bytes: int = Field(16384, ge=256, description="each context file is "
                                        "truncated to this many bytes")
    max_readme_bytes: int = Field(8192, ge=0, description="README truncated to this")
    max_tree_lines: int = Field(300, ge=1, description="directory tree cut after this")
    max_index_file_bytes: int = Field(262144, ge=1, description="larger files are not "
                                      "BM25 candidates")
    top_k: int = Field(5, ge=0, description="BM25-relevant files in the input")
    max_commits: int | None = Field(None, ge=1, description="newest commits per repo; "
                                    "null: all")


class CommitsRecipe(CommitLimits):
    """``curate samples commits``: which repositories, which history, where to write."""

    repos: list[Path] = Field(min_length=1, description="local git repositories")
    output: Path = Field(description="output directory: commits.parquet and stats.json")
    rev: str = Field("HEAD", description="history to walk, e.g. HEAD or main")


class RepoLimits(RecipeModel):
    """Size caps of repo-level samples."""

    max_bytes: int = Field(4_000_000, ge=1024, description="split repositories whose string "
                           "would be larger (by import-graph component)")
    min_files: int = Field(1, ge=1, description="skip repositories with fewer files")
    seed: int = Field(0, description="seed for the order of files without an import graph")


class ReposRecipe(RepoLimits):
    """``curate samples repos``: which repositories and where to write."""

    source: Path = Field(description="curated dataset (grouped by repo), a git repository, "
                         "or a source directory")
    output: Path = Field(description="output directory: repos.parquet and stats.json")
