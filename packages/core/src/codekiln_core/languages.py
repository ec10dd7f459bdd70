"""The one table of programming languages: names, file extensions, grammar and runner.

Every stage names languages through it: curate's language identification (extensions) and
syntax stage (tree-sitter grammars), labeling prompts (display names), eval prompts and
answer extraction (fence tags), the post-training syntax gate, and the sandbox (which
runner executes a language). A language's ``id`` is the name stored in data (lowercase, as
GitHub's linguist spells it: ``c++``, ``c#``, ``shell``); ``aliases`` are the other names
people and models write for it (a Markdown fence tag, a file suffix, a short name).
``runner`` is the sandbox's language key (``codekiln_core.sandbox.languages.SPECS``), set
only where the sandbox can run it. Lookups ignore case and surrounding spaces.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    id: str
    display: str = ""
    aliases: tuple[str, ...] = ()
    ext: tuple[str, ...] = ()
    grammar: str | None = None
    runner: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @property
    def title(self) -> str:
        """The name shown to people and models (``C++``, ``JavaScript``, ``Rust``)."""
        return self.display or self.id.title()


_L = Language

# Tables read better packed, so formatting is off for the rows.
# fmt: off
LANGUAGES: tuple[Language, ...] = (
    _L("python", aliases=("py", "python3", "py3"), ext=(".py", ".pyi", ".pyw"), grammar="python",
       runner="python"),
    _L("c", ext=(".c",), grammar="c", runner="c"),
    _L("c++", aliases=("cpp", "cc", "cxx", "hpp"),
       ext=(".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tpp", ".inl"),
       grammar="cpp", runner="cpp"),
    _L("java", ext=(".java",), grammar="java", runner="java"),
    _L("javascript", display="JavaScript", aliases=("js", "node", "nodejs"),
       ext=(".js", ".mjs", ".cjs", ".jsx"), grammar="javascript", runner="javascript"),
    _L("go", aliases=("golang",), ext=(".go",), grammar="go", runner="go"),
    _L("rust", aliases=("rs",), ext=(".rs",), grammar="rust", runner="rust"),
    _L("bash", aliases=("sh",), grammar="bash", runner="bash"),
    _L("shell", aliases=("zsh",), ext=(".sh", ".bash", ".zsh", ".ksh"), grammar="bash"),
    _L("cython", ext=(".pyx", ".pxd")),
    _L("fish", ext=(".fish",), grammar="fish"),
    _L("powershell", ext=(".ps1", ".psm1"), grammar="powershell"),
    _L("batchfile", ext=(".bat", ".cmd")),
    _L("ruby", ext=(".rb", ".rake", ".gemspec", ".ru"), grammar="ruby"),
    _L("html+erb", ext=(".erb",)),
    _L("swift", ext=(".swift",), grammar="swift"),
    _L("kotlin", ext=(".kt", ".kts"), grammar="kotlin"),
    _L("scala", ext=(".scala", ".sc", ".sbt"), grammar="scala"),
    _L("dart", ext=(".dart",), grammar="dart"),
    _L("zig", ext=(".zig",), grammar="zig"),
    _L("julia", ext=(".jl",), grammar="julia"),
    _L("lua", ext=(".lua",), grammar="lua"),
    _L("perl", ext=(".pl", ".pm", ".t"), grammar="perl"),
    _L("haskell", ext=(".hs", ".lhs"), grammar="haskell"),
    _L("groovy", ext=(".groovy", ".gradle"), grammar="groovy"),
    _L("c#", ext=(".cs", ".csx"), grammar="csharp"),
    _L("f#", ext=(".fs", ".fsx"), grammar="fsharp"),
    _L("visual basic", ext=(".vb",)),
    _L("typescript", display="TypeScript", aliases=("ts",), ext=(".ts", ".mts", ".cts", ".tsx"),
       grammar="typescript"),
    _L("vue", ext=(".vue",), grammar="vue"),
    _L("svelte", ext=(".svelte",), grammar="svelte"),
    _L("cuda", ext=(".cu", ".cuh"), grammar="cuda"),
    _L("objective-c++", ext=(".mm",)),
    _L("html", display="HTML", ext=(".html", ".htm", ".xhtml"), grammar="html"),
    _L("css", display="CSS", ext=(".css",), grammar="css"),
    _L("scss", ext=(".scss",), grammar="scss"),
    _L("sass", ext=(".sass",)),
    _L("less", ext=(".less",)),
    _L("php", display="PHP", ext=(".php", ".phtml"), grammar="php"),
    _L("sql", display="SQL", ext=(".sql", ".psql", ".ddl"), grammar="sql"),
    _L("r", ext=(".r",), grammar="r"),
    _L("r markdown", ext=(".rmd",), grammar="markdown"),
    _L("tex", display="TeX", ext=(".tex", ".sty", ".cls", ".ltx"), grammar="latex"),
    _L("bibtex", ext=(".bib",), grammar="bibtex"),
    _L("markdown", ext=(".md", ".markdown", ".mdx"), grammar="markdown"),
    _L("restructuredtext", display="reStructuredText", ext=(".rst", ".rest"), grammar="rst"),
    _L("toml", ext=(".toml",), grammar="toml"),
    _L("yaml", ext=(".yaml", ".yml"), grammar="yaml"),
    _L("json", ext=(".json", ".jsonl", ".json5", ".geojson"), grammar="json"),
    _L("jupyter notebook", ext=(".ipynb",)),
    _L("xml", ext=(".xml", ".xsd", ".xsl"), grammar="xml"),
    _L("svg", ext=(".svg",)),
    _L("csv", ext=(".csv",)),
    _L("tsv", ext=(".tsv",)),
    _L("ini", ext=(".ini", ".cfg")),
    _L("protocol buffer", ext=(".proto",), grammar="proto"),
    _L("graphql", ext=(".graphql",), grammar="graphql"),
    _L("systemverilog", ext=(".sv", ".svh"), grammar="verilog"),
    _L("verilog", ext=(".vh",), grammar="verilog"),
    _L("vhdl", ext=(".vhd", ".vhdl"), grammar="vhdl"),
    _L("solidity", ext=(".sol",), grammar="solidity"),
    _L("lean", ext=(".lean",)),
    _L("elixir", ext=(".ex", ".exs"), grammar="elixir"),
    _L("erlang", ext=(".erl",), grammar="erlang"),
    _L("clojure", ext=(".clj", ".cljs"), grammar="clojure"),
    _L("ocaml", ext=(".ml", ".mli"), grammar="ocaml"),
    _L("nim", ext=(".nim",), grammar="nim"),
    _L("cmake", ext=(".cmake",), grammar="cmake"),
    _L("makefile", ext=(".mk",), grammar="make"),
    _L("dockerfile", ext=(".dockerfile",), grammar="dockerfile"),
    _L("hcl", ext=(".tf", ".hcl"), grammar="hcl"),
    _L("fortran", ext=(".f90", ".f", ".for"), grammar="fortran"),
    _L("assembly", ext=(".asm", ".s")),
    _L("elm", ext=(".elm",), grammar="elm"),
    _L("cobol", ext=(".cob",)),
    _L("pascal", ext=(".pas",)),
    _L("ada", ext=(".ada", ".adb")),
    _L("text", ext=(".txt",)),
    _L("matlab", display="MATLAB", grammar="matlab"),
    _L("objective-c", grammar="objc"),
    _L("starlark", grammar="starlark"),
    _L("tcl", grammar="tcl"),
)
# fmt: on


@functools.cache
def _by_name() -> dict[str, Language]:
    table: dict[str, Language] = {}
    for language in LANGUAGES:
        for name in language.names:
            if name in table:
                raise ValueError(f"language name {name!r} is claimed twice")
            table[name] = language
    return table


@functools.cache
def extensions() -> dict[str, str]:
    """File extension (``.py``, lowercase) -> language id."""
    table: dict[str, str] = {}
    for language in LANGUAGES:
        for ext in language.ext:
            if ext in table:
                raise ValueError(f"extension {ext!r} is claimed by {table[ext]!r} and "
                                 f"{language.id!r}")
            table[ext] = language.id
    return table


def lookup(name: str) -> Language | None:
    """The language ``name`` (an id or an alias) stands for, None when the table lacks it."""
    return _by_name().get(name.strip().lower())


def runner(name: str) -> str:
    """The sandbox key of ``name`` (``"C++"`` -> ``"cpp"``); others come back lower-cased."""
    language = lookup(name)
    return language.runner if language and language.runner else name.strip().lower()


def grammar(name: str) -> str | None:
    """The tree-sitter-language-pack grammar of ``name``, None when no grammar parses it."""
    language = lookup(name)
    return language.grammar if language else None


def display(name: str) -> str:
    """How prompts name the language; a name the table lacks is title-cased."""
    language = lookup(name)
    return language.title if language else name.title()


def fence_tags(name: str) -> frozenset[str]:
    """The Markdown fence tags that mean ``name``: every name of the languages its grammar
    parses (``bash`` -> bash, sh, shell, zsh); just ``name`` when the table lacks it."""
    language = lookup(name)
    if language is None:
        return frozenset({name.strip().lower()})
    if language.grammar is None:
        return frozenset(language.names)
    return frozenset(n for other in LANGUAGES if other.grammar == language.grammar
                     for n in other.names)
