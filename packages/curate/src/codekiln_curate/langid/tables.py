"""Tables for language identification beyond extensions: file names, shebang interpreters,
extensions shared by several languages.

Names are the language ids of :mod:`codekiln_core.languages` (``c++``, ``c#``,
``r markdown``...), which also holds each language's extensions. Ambiguous extensions are
resolved by content in :mod:`codekiln_curate.langid.detect`.
"""

from __future__ import annotations

# Tables read better packed, so formatting is off for this module.
# fmt: off
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
