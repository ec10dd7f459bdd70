"""Every workspace member declares what it imports, and imports what it declares.

A member that leans on another member's dependencies breaks when installed alone
(``uv sync --package <member>``); a declared dependency nothing imports is weight users
download for nothing. Imports under ``if TYPE_CHECKING:`` are annotations, not uses.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MEMBERS = sorted([*REPO.glob("packages/*/pyproject.toml"), *REPO.glob("plugins/*/pyproject.toml")])

#: import name -> distribution name, where they differ.
DISTRIBUTION_OF = {
    "yaml": "pyyaml",
    "fasttext": "fasttext-community",
    "huggingface_hub": "huggingface-hub",
    "tree_sitter_language_pack": "tree-sitter-language-pack",
    "tree_sitter": "tree-sitter",
}
#: (member, distribution) declared without an import, and why.
DECLARED_FOR_A_REASON = {
    # pins the binding whose ABI the bundled grammars of tree-sitter-language-pack 0.13 need
    ("codekiln-curate", "tree-sitter"),
    ("codekiln-posttrain", "tree-sitter"),
    # the verl extra is launched as `python -m verl.trainer.main_ppo`, never imported by us
    ("codekiln-posttrain", "verl"),
    # the postgres extra is the driver an `mlflow server` on PostgreSQL loads, not us
    ("codekiln-core", "psycopg"),
}
#: (member, module) imported without a declaration, and why.
IMPORTED_FOR_A_REASON = {
    # the pytest plugin: pytest is its host; torch/transformers only inside the fixtures that
    # members declaring them (train, eval) use
    ("codekiln-core", "pytest"),
    ("codekiln-core", "torch"),
    ("codekiln-core", "transformers"),
    # codekiln_core.bpe: the one byte-level BPE trainer, imported inside the functions that
    # only members declaring it (curate, train) call
    ("codekiln-core", "tokenizers"),
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imported_distributions(src: Path) -> set[str]:
    found: set[str] = set()
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        annotations_only = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno in annotations_only:
                continue
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names:
                    found.add(DISTRIBUTION_OF.get(top, top).lower().replace("_", "-"))
    return found


@pytest.mark.parametrize("pyproject", MEMBERS, ids=lambda p: p.parent.name)
def test_member_declares_what_it_imports_and_imports_what_it_declares(pyproject: Path) -> None:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    member = project["name"]
    declared = {_name(req) for req in project.get("dependencies", [])}
    # an extra's packages (vllm, verl) are declared too: imported only behind a guard
    declared |= {_name(req) for reqs in project.get("optional-dependencies", {}).values()
                 for req in reqs}
    imported = {d for d in imported_distributions(pyproject.parent / "src")
                if not d.startswith("codekiln")}
    undeclared = {d for d in imported - declared if (member, d) not in IMPORTED_FOR_A_REASON}
    unused = {d for d in declared - imported
              if not d.startswith("codekiln") and (member, d) not in DECLARED_FOR_A_REASON}
    assert not undeclared, f"{member} imports {sorted(undeclared)} without declaring them"
    assert not unused, f"{member} declares {sorted(unused)} but no module imports them"
