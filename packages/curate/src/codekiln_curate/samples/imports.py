"""Import edges between files of one repository, per language, resolved to repo paths.

Only in-repo dependencies matter for ordering, so every import is resolved against the
repository's own files and unresolved ones (stdlib, third-party) are dropped. Resolution is
by regex, not a full parser: it must be fast and tolerant of code that does not compile.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping

GRAPH_LANGUAGES = frozenset({"python", "java", "javascript", "typescript", "c", "c++", "go",
                             "rust", "cuda"})

_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)", re.MULTILINE)
_PY_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)",
                      re.MULTILINE)
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_JAVA_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+(?:\.\*)?)\s*;", re.MULTILINE)
_JS_SPEC = re.compile(
    r"""(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}/[^'"]*)['"]""")
_C_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
_GO_IMPORT_BLOCK = re.compile(r"^\s*import\s*\(([^)]*)\)", re.MULTILINE)
_GO_IMPORT_LINE = re.compile(r'^\s*import\s+(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)
_GO_QUOTED = re.compile(r'"([^"]+)"')
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)
_RS_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.MULTILINE)
_RS_USE = re.compile(r"\buse\s+(crate|super|self)((?:::\w+)+)")
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


class RepoIndex:
    """Lookups over one repository's file paths, built once per repository."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.paths = set(files)
        self.py_modules: dict[str, list[str]] = defaultdict(list)
        self.java_classes: dict[str, str] = {}
        self.java_packages: dict[str, list[str]] = defaultdict(list)
        self.by_dir: dict[str, list[str]] = defaultdict(list)
        self.go_modules: list[tuple[str, str]] = []
        for path in sorted(files):
            self.by_dir[posixpath.dirname(path)].append(path)
            if path.endswith(".py"):
                self._index_python(path)
            elif path.endswith(".java"):
                match = _JAVA_PACKAGE.search(files[path])
                package = match.group(1) if match else ""
                stem = posixpath.splitext(posixpath.basename(path))[0]
                self.java_classes[f"{package}.{stem}".lstrip(".")] = path
                self.java_packages[package].append(path)
            elif posixpath.basename(path) == "go.mod":
                module = _GO_MODULE.search(files[path])
                if module:
                    self.go_modules.append((module.group(1), posixpath.dirname(path)))

    def _index_python(self, path: str) -> None:
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        for start in range(len(parts)):
            self.py_modules[".".join(parts[start:])].append(path)

    def python_module(self, dotted: str) -> str | None:
        found = self.py_modules.get(dotted)
        return min(found, key=lambda p: (len(p), p)) if found else None


def dependencies(path: str, language: str, content: str, index: RepoIndex) -> set[str]:
    """Repo paths that ``path`` imports (never itself)."""
    resolver = _RESOLVERS.get(language)
    if resolver is None:
        return set()
    return {dep for dep in resolver(path, content, index) if dep != path}


def _python(path: str, content: str, index: RepoIndex) -> set[str]:
    found: set[str] = set()
    for match in _PY_IMPORT.finditer(content):
        for name in match.group(1).split(","):
            dep = _longest_python(name.strip(), index)
            if dep:
                found.add(dep)
    package = posixpath.dirname(path).replace("/", ".")
    for match in _PY_FROM.finditer(content):
        dots, module = match.group(1), match.group(2)
        if dots:
            base = package.split(".") if package else []
            base = base[: len(base) - (len(dots) - 1)] if len(dots) > 1 else base
            module = ".".join([*base, module] if module else base)
        names = [n.split()[0] for n in match.group(3).strip("() \n").split(",") if n.split()]
        hits = [index.python_module(f"{module}.{n}".strip(".")) for n in names if n and n != "*"]
        found.update(hit for hit in hits if hit)
        dep = _longest_python(module, index) if module else None  # runs the package too
        if dep:
            found.add(dep)
    return found


def _longest_python(dotted: str, index: RepoIndex) -> str | None:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        hit = index.python_module(".".join(parts[:end]))
        if hit:
            return hit
    return None


def _java(path: str, content: str, index: RepoIndex) -> set[str]:
    found: set[str] = set()
    for match in _JAVA_IMPORT.finditer(content):
        name = match.group(1)
        if name.endswith(".*"):
            found.update(index.java_packages.get(name[:-2], []))
            continue
        parts = name.split(".")
        for end in range(len(parts), 0, -1):  # static imports name a member of a class
            hit = index.java_classes.get(".".join(parts[:end]))
            if hit:
                found.add(hit)
                break
    return found


def _javascript(path: str, content: str, index: RepoIndex) -> set[str]:
    found: set[str] = set()
    here = posixpath.dirname(path)
    for spec in _JS_SPEC.findall(content):
        target = posixpath.normpath(posixpath.join(here, spec))
        stem = posixpath.splitext(target)[0]
        candidates = [target, *(target + e for e in _JS_EXTS),
                      *(f"{target}/index{e}" for e in _JS_EXTS), *(stem + e for e in _JS_EXTS)]
        hit = next((c for c in candidates if c in index.paths), None)
        if hit:
            found.add(hit)
    return found


def _c_family(path: str, content: str, index: RepoIndex) -> set[str]:
    found: set[str] = set()
    here = posixpath.dirname(path)
    for name in _C_INCLUDE.findall(content):
        local = posixpath.normpath(posixpath.join(here, name))
        if local in index.paths:
            found.add(local)
            continue
        suffix = "/" + name.lstrip("./")
        matches = [p for p in index.paths if p == name or p.endswith(suffix)]
        if matches:
            found.add(min(matches, key=lambda p: (len(p), p)))
    return found


def _go(path: str, content: str, index: RepoIndex) -> set[str]:
    specs = _GO_IMPORT_LINE.findall(content)
    for block in _GO_IMPORT_BLOCK.findall(content):
        specs.extend(_GO_QUOTED.findall(block))
    found: set[str] = set()
    for spec in specs:
        for module, root in index.go_modules:
            if spec == module or spec.startswith(module + "/"):
                directory = posixpath.join(root, spec[len(module):].strip("/")).strip("/")
                found.update(p for p in index.by_dir.get(posixpath.normpath(directory)
                                                         if directory else "", [])
                             if p.endswith(".go") and not p.endswith("_test.go"))
    return found


def _rust(path: str, content: str, index: RepoIndex) -> set[str]:
    found: set[str] = set()
    here = posixpath.dirname(path)
    stem = posixpath.splitext(posixpath.basename(path))[0]
    module_dir = here if stem in ("mod", "lib", "main") else posixpath.join(here, stem)
    for name in _RS_MOD.findall(content):
        for candidate in (f"{module_dir}/{name}.rs", f"{module_dir}/{name}/mod.rs"):
            if candidate.lstrip("/") in index.paths:
                found.add(candidate.lstrip("/"))
                break
    crate_root = _crate_root(path, index)
    for anchor, rest in _RS_USE.findall(content):
        base = {"crate": crate_root, "self": module_dir,
                "super": posixpath.dirname(module_dir)}[anchor]
        parts = [p for p in rest.split("::") if p]
        for end in range(len(parts), 0, -1):
            prefix = posixpath.join(base, *parts[:end]).lstrip("/")
            hit = next((c for c in (prefix + ".rs", prefix + "/mod.rs") if c in index.paths), None)
            if hit:
                found.add(hit)
                break
    return found


def _crate_root(path: str, index: RepoIndex) -> str:
    directory = posixpath.dirname(path)
    while True:
        for root_file in ("lib.rs", "main.rs"):
            if posixpath.join(directory, root_file).lstrip("/") in index.paths:
                return directory
        if not directory:
            return ""
        directory = posixpath.dirname(directory)


_RESOLVERS = {
    "python": _python, "java": _java, "javascript": _javascript, "typescript": _javascript,
    "c": _c_family, "c++": _c_family, "cuda": _c_family, "go": _go, "rust": _rust,
}
