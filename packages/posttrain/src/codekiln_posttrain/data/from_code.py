"""Instructions made from curated code, without a teacher: docstring -> implementation.

Every documented top-level Python function of the curated set becomes one SFT conversation:
the user turn gives its signature and docstring, the assistant turn is the function as it
was written. It is the cheapest real instruction data there is (no model in the loop), which
is why the quickstart uses it; OSS-Instruct (``data instruct``) is the richer path when a
teacher endpoint exists. Functions are taken from the best-scored files first when the set
has a quality score, so the gate's judgement carries into post-training.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

PROMPT = ("Write a Python function with this signature:\n\n```python\n{signature}\n```\n\n"
          "It should do the following:\n\n{doc}")


class FromCodeConfig(RecipeModel):
    """The recipe of ``codekiln posttrain data from-code``."""

    curated: Path = Field(description="curated dataset (file or directory) with content and "
                          "language; a quality score ranks the files")
    output: Path = Field(description="the SFT rows: a .jsonl or .parquet file")
    limit: int = Field(500, ge=1, description="conversations to write (best-scored files first)")
    per_file: int = Field(3, ge=1, description="at most this many functions from one file")
    min_doc_chars: int = Field(40, ge=1, description="skip functions with a shorter docstring")
    min_body_lines: int = Field(3, ge=1, description="skip shorter implementations")
    max_lines: int = Field(40, ge=3, description="skip longer functions (whole definition)")
    score_column: str = Field("quality_score", description="file score used to rank files, "
                              "when the column exists")


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}:"


def _public_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                and not node.name.startswith("_") and not node.decorator_list:
            yield node


def function_tasks(source: str, config: FromCodeConfig) -> list[tuple[str, str]]:
    """(prompt, answer) for each documented function of one file that fits the limits."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines()
    tasks: list[tuple[str, str]] = []
    for node in _public_functions(tree):
        doc = ast.get_docstring(node)
        end = node.end_lineno or node.lineno
        span = end - node.lineno + 1
        if doc is None or len(doc) < config.min_doc_chars or span > config.max_lines:
            continue
        if span - len(doc.splitlines()) - 1 < config.min_body_lines:
            continue
        code = "\n".join(lines[node.lineno - 1:end])
        prompt = PROMPT.format(signature=_signature(node), doc=doc.strip())
        tasks.append((prompt, f"```python\n{code}\n```"))
        if len(tasks) >= config.per_file:
            break
    return tasks


def _rank(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[float, str]:
        score = row.get(column)
        return (-float(score) if score is not None else 0.0, str(row.get("id", "")))
    return sorted(rows, key=key)


def from_code_rows(rows: list[dict[str, Any]], config: FromCodeConfig) -> list[dict[str, Any]]:
    """SFT rows (messages, language, id) from the Python files of a curated dataset."""
    python = [r for r in rows if r.get("language") == "python"
              and isinstance(r.get("content"), str)]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in _rank(python, config.score_column):
        for prompt, answer in function_tasks(row["content"], config):
            digest = hashlib.sha1(answer.encode()).hexdigest()[:12]
            if digest in seen:  # the same function vendored twice
                continue
            seen.add(digest)
            out.append({"messages": [{"role": "user", "content": prompt},
                                     {"role": "assistant", "content": answer}],
                        "language": "python", "id": f"code-{digest}"})
            if len(out) >= config.limit:
                return out
    return out


def instructions_from_code(config: FromCodeConfig, run: LineageRun) -> dict[str, int]:
    """SFT rows made from the documented functions of the curated dataset, no teacher."""
    from codekiln_posttrain.chat.datasets import check_row, read_source_rows, write_rows

    source = read_source_rows(config.curated)
    rows = [check_row(r, "sft", f"{config.curated} function {i}")
            for i, r in enumerate(from_code_rows(source, config))]
    if not rows:
        raise ConfigError(f"{config.curated}: no documented Python function fits the limits "
                          "(min_doc_chars, min_body_lines, max_lines); loosen them with --set")
    write_rows(config.output, rows)
    summary = {"files": len(source), "rows": len(rows)}
    run.log_metrics(summary)
    run.log_output(config.output, name="sft-data")
    return summary
