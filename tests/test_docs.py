"""The documentation points only at things that exist, inside the repository.

A clone is all a user has: every Markdown link and every repository path a page names must
resolve, every ``codekiln_*`` module, function or class a page names or imports must exist,
and no file may send the reader to a document outside the repository.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Documents the team keeps outside the repository; naming them leaves a clone dangling.
OUTSIDE = re.compile(r"DESIGN\.md|PLATFORM_NOTES|SEED_CODER_SPEC|\.\./shared|\bSPEC\b|\bspec §"
                     r"|shared/benchmarks|\"\.\.\" / \"shared\"")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
#: Backticked paths inside the repository: `docs/x.md`, `packages/core/...`, `recipes/x.yaml`.
REPO_PATH = re.compile(r"`((?:docs|packages|plugins|recipes|benchmarks|tests|\.ci)/[^`\s*{}<>]+)`")
OURS = r"codekiln_(?:core|curate|train|posttrain|serve|eval|benchmark_data|filter_example)"
#: Backticked dotted names of our packages: `codekiln_core.fsio.atomic_dir` (not file names).
DOTTED = re.compile(rf"`({OURS}(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\(\))?`")
FILE_SUFFIXES = (".json", ".py", ".yaml", ".md", ".jsonl", ".txt")
IMPORT = re.compile(rf"^\s*from ({OURS}[a-z_.]*) import \(?([A-Za-z0-9_, ]+)", re.M)


def tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", *patterns], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    return [REPO / name for name in listed.split("\0") if name]


MARKDOWN = tracked("*.md")
#: Pages about the present; a CHANGELOG may name what a release removed or moved.
CURRENT = [p for p in MARKDOWN if p.name != "CHANGELOG.md"]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")}


def resolves(dotted: str) -> bool:
    """True when ``a.b.c`` is an importable module or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(value, name):
                return False
            value = getattr(value, name)
        return True
    return False


@pytest.mark.parametrize("page", CURRENT, ids=lambda p: str(p.relative_to(REPO)))
def test_links_and_paths_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists():
            missing.append(f"link {target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            missing.append(f"link {target}: no heading #{anchor}")
    for path in REPO_PATH.findall(text):
        if not (REPO / path.rstrip("/.,;:")).exists():
            missing.append(f"path `{path}`: no such file")
    assert not missing, f"{page.relative_to(REPO)}: " + "; ".join(missing)


@pytest.mark.parametrize("page", CURRENT, ids=lambda p: str(p.relative_to(REPO)))
def test_named_modules_and_functions_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = [name for name in DOTTED.findall(text)
               if not name.endswith(FILE_SUFFIXES) and not resolves(name)]
    for module, names in IMPORT.findall(text):
        missing += [f"{module}.{n.strip()}" for n in names.split(",")
                    if n.strip() and not resolves(f"{module}.{n.strip()}")]
    assert not missing, f"{page.relative_to(REPO)} names what does not exist: {missing}"


SECTION = re.compile(r"seed-coder\.md §(\d+)")


def test_recipe_sections_cited_exist() -> None:
    """``seed-coder.md §N`` in code, recipes and docs names a section of that page."""
    sections = set(re.findall(r"^## §(\d+)\.", (REPO / "docs" / "seed-coder.md").read_text(
        encoding="utf-8"), re.M))
    cited = {(str(p.relative_to(REPO)), n) for p in tracked() if p.is_file()
             and p.suffix in (".py", ".md", ".yaml", ".toml")
             for n in SECTION.findall(p.read_text(encoding="utf-8"))}
    assert cited and not [c for c in cited if c[1] not in sections]


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked():
        if path.suffix in (".png", ".lock", ".gguf", ".parquet", ".zst") or not path.is_file():
            continue
        if path == Path(__file__):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not offenders, "; ".join(offenders[:40]) + f" ({len(offenders)} in all)"
