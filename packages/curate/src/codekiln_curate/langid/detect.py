"""Which language a file is in, from its name, extension, shebang and content.

Order of evidence: exact file name, extension (ambiguous ones resolved from content),
shebang, then content hints for extension-less files. The result is a canonical lowercase
name, or ``None`` when nothing matches (those files are usually not code).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from codekiln_core.languages import extensions
from codekiln_curate.langid.tables import AMBIGUOUS, FILENAMES, SHEBANGS

_SHEBANG = re.compile(r"^#!\s*(\S+)(?:\s+(?:-\S+\s+)*(\S+))?")
_HEAD = 4000  # content hints only look at the start of a file

_CPP_HINTS = re.compile(
    r"^\s*(namespace\s+\w+|template\s*<|class\s+\w+[^;]*\{|#include\s*<(iostream|string|vector"
    r"|memory|map|algorithm|cstdint|cstdio|cstdlib|cstring|cmath)>|using\s+namespace|"
    r"(public|private|protected):|\w+::\w+|constexpr|nullptr|std::)",
    re.MULTILINE,
)
_OBJC_HINTS = re.compile(
    r"^\s*(@interface|@implementation|@protocol|@property|@end\b|#import\s*[<\"]|"
    r"[-+]\s*\(\w+\s*\*?\)\w+)",
    re.MULTILINE,
)
_MATLAB_HINTS = re.compile(
    r"^\s*(function\s+(\[[^\]]*\]\s*=\s*|\w+\s*=\s*)?\w+\s*(\(|$)|%.*$|end\s*$|disp\(|"
    r"fprintf\(|zeros\(|ones\(|plot\()",
    re.MULTILINE,
)
_VERILOG_HINTS = re.compile(
    r"^\s*(module\s+\w+|endmodule|always\s*@|assign\s+\w+|input\s+|output\s+|wire\s+|reg\s+"
    r"|`timescale|`define)",
    re.MULTILINE,
)
_COQ_HINTS = re.compile(
    r"^\s*(Theorem|Lemma|Proof\.|Qed\.|Definition|Inductive|Fixpoint|Require\s+Import)\b",
    re.MULTILINE,
)
_PROLOG_HINTS = re.compile(r"^\s*(:-\s*\w+|\w+\([^)]*\)\s*:-)", re.MULTILINE)
_CONTENT_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("php", re.compile(r"\A\s*<\?php")),
    ("html", re.compile(r"\A\s*(<!doctype html|<html)", re.IGNORECASE)),
    ("xml", re.compile(r"\A\s*<\?xml")),
    ("json", re.compile(r"\A\s*(\{\s*(\"|\}|$)|\[\s*[\[{\"\d\]-])")),
)


def language_from_shebang(content: str) -> str | None:
    """Language of a ``#!`` interpreter line (``/usr/bin/env python3 -u`` included)."""
    if not content.startswith("#!"):
        return None
    match = _SHEBANG.match(content.split("\n", 1)[0])
    if not match:
        return None
    program = PurePosixPath(match.group(1)).name
    if program == "env" and match.group(2):
        program = PurePosixPath(match.group(2)).name
    program = re.sub(r"[\d.]+$", "", program.lower()) or program.lower()
    return SHEBANGS.get(program) or SHEBANGS.get(program.rstrip("-"))


def resolve_ambiguous(extension: str, content: str) -> str:
    """Pick among the languages sharing an extension by counting content hints."""
    head = content[:_HEAD]
    if extension == ".h":
        if len(_OBJC_HINTS.findall(head)) >= 2:
            return "objective-c"
        return "c++" if _CPP_HINTS.search(head) else "c"
    if extension == ".m":
        objc, matlab = len(_OBJC_HINTS.findall(head)), len(_MATLAB_HINTS.findall(head))
        return "objective-c" if objc > matlab else "matlab"
    if extension == ".v":
        coq, verilog = len(_COQ_HINTS.findall(head)), len(_VERILOG_HINTS.findall(head))
        return "coq" if coq > verilog else "verilog"
    if extension == ".pl":
        return "prolog" if len(_PROLOG_HINTS.findall(head)) >= 3 else "perl"
    return AMBIGUOUS[extension][0]


def detect_language(path: str | None, content: str) -> str | None:
    """Canonical lowercase language of a file, or ``None`` when unknown."""
    name = PurePosixPath((path or "").replace("\\", "/")).name
    if name in FILENAMES:
        return FILENAMES[name]
    suffixes = [s.lower() for s in PurePosixPath(name).suffixes]
    ext = suffixes[-1] if suffixes else ""
    if ext in AMBIGUOUS:
        return resolve_ambiguous(ext, content)
    by_extension = extensions().get(ext)
    if by_extension is not None:
        return by_extension
    if name.lower() in FILENAMES:
        return FILENAMES[name.lower()]
    if name.lower().startswith(("dockerfile.", "makefile.")):
        return name.lower().split(".", 1)[0]
    from_shebang = language_from_shebang(content)
    if from_shebang:
        return from_shebang
    head = content[:_HEAD]
    for language, pattern in _CONTENT_HINTS:
        if pattern.search(head):
            return language
    return None
