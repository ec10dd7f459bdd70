"""Tables for language identification: extensions, file names, shebang interpreters.

Names are canonical lowercase language names used across codekiln (``c++``, ``c#``,
``r markdown``...). Ambiguous extensions map to ``None`` here and are resolved by content
in :mod:`codekiln_curate.langid.detect`.
"""

from __future__ import annotations

# Tables read better packed, so formatting is off for this module.
# fmt: off
EXTENSIONS: dict[str, str] = {
    # Python and notebooks-adjacent
    ".py": "python", ".pyi": "python", ".pyw": "python", ".pyx": "cython", ".pxd": "cython",
    # Shell
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell", ".fish": "fish",
    ".ps1": "powershell", ".psm1": "powershell", ".bat": "batchfile", ".cmd": "batchfile",
    # Ruby
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby", ".erb": "html+erb",
    # Go, Rust, Swift, Kotlin, Scala, Dart, Zig, Julia, Lua, Perl, Haskell
    ".go": "go", ".rs": "rust", ".swift": "swift", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".sc": "scala", ".sbt": "scala", ".dart": "dart", ".zig": "zig",
    ".jl": "julia", ".lua": "lua", ".pl": "perl", ".pm": "perl", ".t": "perl",
    ".hs": "haskell", ".lhs": "haskell",
    # JVM / .NET
    ".java": "java", ".groovy": "groovy", ".gradle": "groovy", ".cs": "c#", ".csx": "c#",
    ".fs": "f#", ".fsx": "f#", ".vb": "visual basic",
    # JavaScript family
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "typescript",
    ".vue": "vue", ".svelte": "svelte",
    # C family
    ".c": "c", ".cc": "c++", ".cpp": "c++", ".cxx": "c++", ".c++": "c++", ".hpp": "c++",
    ".hh": "c++", ".hxx": "c++", ".h++": "c++", ".ipp": "c++", ".tpp": "c++", ".inl": "c++",
    ".cu": "cuda", ".cuh": "cuda", ".mm": "objective-c++",
    # Web
    ".html": "html", ".htm": "html", ".xhtml": "html", ".css": "css", ".scss": "scss",
    ".sass": "sass", ".less": "less", ".php": "php", ".phtml": "php",
    # Data / config / docs
    ".sql": "sql", ".psql": "sql", ".ddl": "sql",
    ".r": "r", ".rmd": "r markdown",
    ".tex": "tex", ".sty": "tex", ".cls": "tex", ".ltx": "tex", ".bib": "bibtex",
    ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
    ".rst": "restructuredtext", ".rest": "restructuredtext",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "json",
    ".json5": "json", ".geojson": "json", ".ipynb": "jupyter notebook",
    ".xml": "xml", ".xsd": "xml", ".xsl": "xml", ".svg": "svg", ".csv": "csv", ".tsv": "tsv",
    ".ini": "ini", ".cfg": "ini", ".proto": "protocol buffer", ".graphql": "graphql",
    # Hardware, contracts, math
    ".sv": "systemverilog", ".svh": "systemverilog", ".vh": "verilog", ".vhd": "vhdl",
    ".vhdl": "vhdl", ".sol": "solidity", ".lean": "lean",
    # Others common on GitHub
    ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".clj": "clojure", ".cljs": "clojure",
    ".ml": "ocaml", ".mli": "ocaml", ".nim": "nim", ".cmake": "cmake", ".mk": "makefile",
    ".dockerfile": "dockerfile", ".tf": "hcl", ".hcl": "hcl", ".f90": "fortran",
    ".f": "fortran", ".for": "fortran", ".asm": "assembly", ".s": "assembly",
    ".elm": "elm", ".cob": "cobol", ".pas": "pascal", ".ada": "ada", ".adb": "ada",
    ".txt": "text",
}

#: Ambiguous extensions, resolved from content by ``language_id.resolve_ambiguous``.
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    ".h": ("c", "c++", "objective-c"),
    ".m": ("matlab", "objective-c"),
    ".v": ("verilog", "coq"),
    ".pl": ("perl", "prolog"),
}

#: Whole file names (matched case-sensitively first, then lowercased).
FILENAMES: dict[str, str] = {
    "Makefile": "makefile", "makefile": "makefile", "GNUmakefile": "makefile",
    "Dockerfile": "dockerfile", "Containerfile": "dockerfile",
    "CMakeLists.txt": "cmake", "Gemfile": "ruby", "Rakefile": "ruby", "Podfile": "ruby",
    "Vagrantfile": "ruby", "Guardfile": "ruby", "Brewfile": "ruby", "Fastfile": "ruby",
    "Jenkinsfile": "groovy", "BUILD": "starlark", "BUILD.bazel": "starlark",
    "WORKSPACE": "starlark", "SConstruct": "python", "SConscript": "python",
    "Pipfile": "toml", "Cargo.lock": "toml", "poetry.lock": "toml", "uv.lock": "toml",
    "go.mod": "go module", "go.sum": "go checksums", "yarn.lock": "yarn lock",
    ".bashrc": "shell", ".bash_profile": "shell", ".zshrc": "shell", ".profile": "shell",
    "PKGBUILD": "shell", "configure": "shell", "meson.build": "meson",
    "requirements.txt": "pip requirements", "DESCRIPTION": "debian control",
    "NAMESPACE": "r", ".Rprofile": "r",
}

#: Interpreter in a ``#!`` line -> language.
SHEBANGS: dict[str, str] = {
    "python": "python", "python2": "python", "python3": "python", "pypy": "python",
    "pypy3": "python", "sh": "shell", "bash": "shell", "zsh": "shell", "ksh": "shell",
    "dash": "shell", "ash": "shell", "fish": "fish", "ruby": "ruby", "perl": "perl",
    "node": "javascript", "nodejs": "javascript", "deno": "typescript", "bun": "javascript",
    "ts-node": "typescript", "php": "php", "lua": "lua", "luajit": "lua", "rscript": "r",
    "julia": "julia", "tclsh": "tcl", "groovy": "groovy", "scala": "scala",
    "kotlin": "kotlin", "swift": "swift", "pwsh": "powershell", "make": "makefile",
    "awk": "awk", "gawk": "awk", "osascript": "applescript",
}

#: Languages that are data or markup, never "code files" for the quality rubric.
DATA_LANGUAGES: frozenset[str] = frozenset(
    {"json", "yaml", "toml", "csv", "tsv", "xml", "svg", "ini", "yarn lock",
     "go checksums", "pip requirements", "jupyter notebook", "bibtex"}
)
# fmt: on
