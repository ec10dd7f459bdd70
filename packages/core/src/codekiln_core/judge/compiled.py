"""Judged programs for the compiled languages: C, C++, Java, Go and Rust.

One source file holds prelude, answer and tests (the sandbox compiles one file). Names the
judge adds carry a per-run random suffix, so an answer written before the run cannot call or
shadow them. The nonce is read (and the nonce file and the source, which holds the tests,
deleted) before the answer runs: in C/C++ by a priority-101 constructor, through raw system
calls an answer cannot interpose; in Java, Go and Rust by the judge's ``main``, which then
runs the tests' ``main`` and prints the nonce. C/C++ ``assert`` becomes the judge's own (it
exits through the kernel, so redefining ``__assert_fail``, ``abort`` or ``exit`` does not
help); Rust's ``assert_eq!``/``assert_ne!`` require both sides to have one type (an answer
type with a lenient ``PartialEq`` against the expected value does not compile).
Known limits: C/C++ constructors of priority <= 101 in the answer run before the judge's.
"""

from __future__ import annotations

import re
import secrets

from codekiln_core.judge.submission import Submission

COMPILED = ("c", "cpp", "java", "go", "rust")
_C_MAIN = re.compile(r"\bint\s+main\s*\([^)]*\)\s*\{")
_C_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include\b.*$", re.MULTILINE)
_RETURN = re.compile(r"\breturn\b(?!\s*;)")
_JAVA_PUBLIC_CLASS = re.compile(r"^([ \t]*)public\s+((?:final\s+|abstract\s+)*)class\s+(\w+)",
                                re.MULTILINE)
_JAVA_MAIN_CLASS = re.compile(r"class\s+(\w+)[^{]*\{[^}]*?static\s+void\s+main\b", re.DOTALL)
_GO_PACKAGE = re.compile(r"^[ \t]*package\s+\w+[ \t]*$", re.MULTILINE)
_FN_MAIN = {"go": re.compile(r"\bfunc\s+main\s*\(\s*\)"),
            "rust": re.compile(r"\bfn\s+main\s*\(\s*\)")}

_C_RUNTIME = r"""
#if defined(__x86_64__)
static long judge_sys_{k}(long n, long a, long b, long c) {{
    long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
                              : "rcx", "r11", "memory");
    return r;
}}
enum {{ JUDGE_READ_{k} = 0, JUDGE_WRITE_{k} = 1, JUDGE_CLOSE_{k} = 3, JUDGE_OPENAT_{k} = 257,
       JUDGE_UNLINKAT_{k} = 263, JUDGE_EXIT_{k} = 231 }};
#elif defined(__aarch64__)
static long judge_sys_{k}(long n, long a, long b, long c) {{
    register long x8 __asm__("x8") = n; register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b; register long x2 __asm__("x2") = c;
    __asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}}
enum {{ JUDGE_READ_{k} = 63, JUDGE_WRITE_{k} = 64, JUDGE_CLOSE_{k} = 57, JUDGE_OPENAT_{k} = 56,
       JUDGE_UNLINKAT_{k} = 35, JUDGE_EXIT_{k} = 94 }};
#else
#error "the codekiln judge supports C/C++ on x86-64 and aarch64 Linux"
#endif
static char judge_nonce_{k}[128];
static long judge_nonce_size_{k};
__attribute__((constructor(101))) static void judge_start_{k}(void) {{
    long fd = judge_sys_{k}(JUDGE_OPENAT_{k}, -100, (long)"{nonce}", 0);
    if (fd >= 0) {{
        long n = judge_sys_{k}(JUDGE_READ_{k}, fd, (long)judge_nonce_{k}, sizeof judge_nonce_{k});
        judge_nonce_size_{k} = n > 0 ? n : 0;
        judge_sys_{k}(JUDGE_CLOSE_{k}, fd, 0, 0);
    }}
    judge_sys_{k}(JUDGE_UNLINKAT_{k}, -100, (long)"{nonce}", 0);
    judge_sys_{k}(JUDGE_UNLINKAT_{k}, -100, (long)"{source}", 0);
}}
static int judge_done_{k}(void) {{
    judge_sys_{k}(JUDGE_WRITE_{k}, 1, (long)judge_nonce_{k}, judge_nonce_size_{k});
    return 0;
}}
static void judge_say_{k}(const char *text) {{
    long n = 0;
    while (text[n]) n++;
    judge_sys_{k}(JUDGE_WRITE_{k}, 2, (long)text, n);
}}
static void judge_fail_{k}(const char *expr, const char *file, int line) {{
    char digits[16]; int i = 15; digits[i] = 0;
    do {{ digits[--i] = (char)('0' + line % 10); line /= 10; }} while (line && i);
    judge_say_{k}(file); judge_say_{k}(":"); judge_say_{k}(digits + i);
    judge_say_{k}(": Assertion failed: "); judge_say_{k}(expr); judge_say_{k}("\n");
    judge_sys_{k}(JUDGE_EXIT_{k}, 1, 0, 0);
}}
"""
_C_ASSERT = """
#undef assert
#define assert(e) ((e) ? (void)0 : judge_fail_{k}(#e, __FILE__, __LINE__))
"""


def wrap_compiled(language: str, submission: Submission,
                  nonce_file: str) -> tuple[str, dict[str, str]]:
    """(source, extra files) of a judged program in ``language`` (one of ``COMPILED``)."""
    key = secrets.token_hex(6)
    if language in ("c", "cpp"):
        return _c_family(language, submission, nonce_file, key), {}
    if language == "java":
        return _java(submission, nonce_file, key), {}
    if language == "go":
        return _go(submission, nonce_file, key), {}
    return _rust(submission, nonce_file, key), {}


def _c_family(language: str, submission: Submission, nonce_file: str, key: str) -> str:
    source = "main.c" if language == "c" else "main.cpp"
    runtime = _C_RUNTIME.format(k=key, nonce=nonce_file, source=source)
    tests = _c_tests(submission.tests, key)
    return f"{runtime}\n{submission.prelude}\n{submission.answer}\n#undef main\n{tests}\n"


def _c_tests(tests: str, key: str) -> str:
    """The judge's ``assert`` after the tests' includes; the nonce printed where ``main``
    returns (each ``return`` in it, and its end)."""
    includes = list(_C_INCLUDE.finditer(tests))
    cut = includes[-1].end() if includes else 0
    tests = tests[:cut] + _C_ASSERT.format(k=key) + tests[cut:]
    found = _C_MAIN.search(tests)
    if found is None:
        return tests
    end = _matching_brace(tests, found.end() - 1)
    if end is None:
        return tests
    body = _RETURN.sub(f"return judge_done_{key}(), ", tests[found.end():end])
    return f"{tests[:found.end()]}{body}judge_done_{key}();\n{tests[end:]}"


def _matching_brace(text: str, start: int) -> int | None:
    """Index of the brace closing the one at ``start`` (strings, chars, comments skipped)."""
    depth, at = 0, start
    while at < len(text):
        two = text[at:at + 2]
        if two == "//":
            at = text.find("\n", at)
            if at < 0:
                return None
        elif two == "/*":
            at = text.find("*/", at + 2)
            if at < 0:
                return None
            at += 1
        elif text[at] in "\"'":
            quote, at = text[at], at + 1
            while at < len(text) and text[at] != quote:
                at += 2 if text[at] == "\\" else 1
        elif text[at] == "{":
            depth += 1
        elif text[at] == "}":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return None


def _java(submission: Submission, nonce_file: str, key: str) -> str:
    tests = _JAVA_PUBLIC_CLASS.sub(r"\1\2class \3", submission.tests)
    found = _JAVA_MAIN_CLASS.search(tests)
    tests_class = found.group(1) if found else "Main"
    entry = f"JudgeMain{key}"
    files = "java.nio.file"
    return (f"// judged program; entry point: public class {entry}\n"
            f"{submission.prelude}\n{submission.answer}\n{tests}\n"
            f"public class {entry} {{\n"
            f"    public static void main(String[] args) throws Throwable {{\n"
            f"        {files}.Path nonceFile = {files}.Paths.get(\"{nonce_file}\");\n"
            f"        byte[] nonce = {files}.Files.readAllBytes(nonceFile);\n"
            f"        {files}.Files.delete(nonceFile);\n"
            f"        {files}.Files.deleteIfExists({files}.Paths.get(\"{entry}.java\"));\n"
            f"        {tests_class}.main(args);\n"
            f"        System.out.flush();\n"
            f"        java.io.FileOutputStream out = "
            f"new java.io.FileOutputStream(java.io.FileDescriptor.out);\n"
            f"        out.write(nonce);\n        out.flush();\n    }}\n}}\n")


def _go(submission: Submission, nonce_file: str, key: str) -> str:
    program = f"{submission.prelude}\n{submission.answer}"
    tests = _GO_PACKAGE.sub("", submission.tests)
    tests = _FN_MAIN["go"].sub(f"func judgeTestsMain{key}()", tests, count=1)
    package = _GO_PACKAGE.search(program)
    head, rest = (program[:package.end()], program[package.end():]) if package else (
        "package main", program)
    return (f"{head}\nimport judgeos{key} \"os\"\n{rest}\n{tests}\n"
            f"var judgeNonce{key} = judgeReadNonce{key}()\n"
            f"func judgeReadNonce{key}() []byte {{\n"
            f"\tnonce, _ := judgeos{key}.ReadFile(\"{nonce_file}\")\n"
            f"\tjudgeos{key}.Remove(\"{nonce_file}\")\n\tjudgeos{key}.Remove(\"main.go\")\n"
            f"\treturn nonce\n}}\n"
            f"func main() {{\n\tjudgeTestsMain{key}()\n"
            f"\tjudgeos{key}.Stdout.Write(judgeNonce{key})\n}}\n")


_RUST_MACROS = """
macro_rules! judge_assert_eq_{k} {{
    ($left:expr, $right:expr $(,)?) => {{ judge_assert_eq_{k}!($left, $right, "") }};
    ($left:expr, $right:expr, $($arg:tt)+) => {{{{
        fn judge_same_type<T: ?Sized>(_: &T, _: &T) {{}}
        let (judge_left, judge_right) = (&$left, &$right);
        judge_same_type(judge_left, judge_right);
        ::std::assert_eq!(judge_left, judge_right, $($arg)+);
    }}}};
}}
macro_rules! judge_assert_ne_{k} {{
    ($left:expr, $right:expr $(,)?) => {{ judge_assert_ne_{k}!($left, $right, "") }};
    ($left:expr, $right:expr, $($arg:tt)+) => {{{{
        fn judge_same_type<T: ?Sized>(_: &T, _: &T) {{}}
        let (judge_left, judge_right) = (&$left, &$right);
        judge_same_type(judge_left, judge_right);
        ::std::assert_ne!(judge_left, judge_right, $($arg)+);
    }}}};
}}
"""
_RUST_ASSERTS = ((re.compile(r"(?<![\w:])(?:debug_)?assert_eq!\s*\("), "judge_assert_eq_{k}!("),
                 (re.compile(r"(?<![\w:])(?:debug_)?assert_ne!\s*\("), "judge_assert_ne_{k}!("),
                 (re.compile(r"(?<![\w:])(?:debug_)?assert!\s*\("), "::std::assert!("))


def _rust(submission: Submission, nonce_file: str, key: str) -> str:
    tests = _FN_MAIN["rust"].sub(f"fn judge_tests_main_{key}()", submission.tests, count=1)
    for pattern, replacement in _RUST_ASSERTS:
        tests = pattern.sub(replacement.format(k=key), tests)
    return (f"{submission.prelude}\n{submission.answer}\n{_RUST_MACROS.format(k=key)}\n{tests}\n"
            f"fn main() {{\n"
            f"    let nonce = ::std::fs::read(\"{nonce_file}\").unwrap_or_default();\n"
            f"    let _ = ::std::fs::remove_file(\"{nonce_file}\");\n"
            f"    let _ = ::std::fs::remove_file(\"main.rs\");\n"
            f"    judge_tests_main_{key}();\n"
            f"    use ::std::io::Write;\n"
            f"    let mut out = ::std::io::stdout();\n"
            f"    let _ = out.flush();\n    let _ = out.write_all(&nonce);\n"
            f"    let _ = out.flush();\n}}\n")
