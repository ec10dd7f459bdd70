"""Judged programs: what is sent to the sandbox, and the compiled languages end to end."""

from __future__ import annotations

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.judge import WRONG_ANSWER, Judge, Submission, assemble, decide
from codekiln_core.judge.programs import bash_functions, python_runtime
from codekiln_core.sandbox import LocalSandbox, RunResult, Verdict

TESTS = "assert add(1, 2) == 3\n"


def test_the_nonce_and_the_tests_travel_only_as_files() -> None:
    for language, tests in (("python", TESTS), ("javascript", "console.assert(add(1,2)===3)"),
                            ("bash", "[[ $(add 1 2) = 3 ]]")):
        program = assemble(Submission(language, "THE_ANSWER_TEXT", tests))
        request = program.request
        assert program.marker and program.marker not in request.code
        assert request.files[".judge-nonce"] == program.marker + "\n"
        assert "THE_ANSWER_TEXT" not in request.code and "add 1 2" not in request.code
        assert request.completion_marker == program.marker and request.require_completion
    local = assemble(Submission("python", "x = 1", TESTS), inline_python=False)
    assert local.marker is None and ".judge-nonce" not in local.request.files
    assert local.request.code.startswith("from codekiln_core.judge.python_main import")
    assert "__judge_eq__(add(1, 2), 3)" in local.request.files[".judge-tests.py"]


def test_inline_python_runtime_is_one_self_contained_program() -> None:
    source = python_runtime()
    compile(source, "main.py", "exec")
    assert "codekiln_core" not in source.replace("codekiln_core/judge", "")
    assert source.count("from __future__") == 1 and source.rstrip().endswith("judge_main()")


def test_io_checks_bad_names_and_unknown_languages() -> None:
    io = assemble(Submission("python", "print(input())", stdin="7", expected_stdout="7"))
    assert io.marker is None and io.request.code == "print(input())"
    assert not io.request.require_completion and io.request.stdin == "7"
    with pytest.raises(ConfigError, match="reserved for the judge"):
        assemble(Submission("python", "", TESTS, files={".judge-tests.py": "x"}))
    with pytest.raises(ConfigError, match="unknown language 'cobol'"):
        assemble(Submission("cobol", "", TESTS))


def test_bash_proxies_cover_the_answers_functions_only() -> None:
    answer = ("add() {\n  helper() { :; }\n}\nfunction twice {\n  :\n}\nfunction with_parens() {"
              "\n  :\n}\nset() { :; }\n__judge_call() { :; }\necho notafunction\n")
    assert bash_functions(answer) == ["add", "helper", "twice", "with_parens"]


def result(verdict: Verdict, detail: str = "", stdout: str = "", stderr: str = "") -> RunResult:
    return RunResult(verdict, 0, stdout, stderr, 0.01, False, [], detail)


def test_verdicts_and_reasons() -> None:
    io = Submission("python", "", stdin="", expected_stdout="1 2\n3.0000000001")
    assert decide(io, result(Verdict.PASSED, stdout="1  2\n3")).passed
    assert decide(io, result(Verdict.PASSED, stdout="1 2\n4")).verdict == WRONG_ANSWER
    tests = Submission("python", "def f(:", TESTS)
    syntax = decide(tests, result(Verdict.RUNTIME_ERROR, "uncaught SyntaxError",
                                  stderr="  File \"main.py\"\n    ^\nSyntaxError: bad"))
    assert (syntax.verdict, syntax.reason) == ("compile_error",
                                               "uncaught SyntaxError: SyntaxError: bad")
    failed = decide(tests, result(Verdict.FAILED, "exit code 1",
                                  stderr="AssertionError: judge: x\n    at t (tests.js:1:2)\n"))
    assert failed.reason == "exit code 1: AssertionError: judge: x"
    assert decide(tests, result(Verdict.SANDBOX_ERROR, "down")).verdict == "sandbox_error"


COMPILED_TESTS = {
    "c": "#include <assert.h>\nint main() {\n    assert(add(1, 2) == 3);\n"
         "    assert(add(2, 2) == 4);\n    return 0;\n}\n",
    "rust": "fn main() {\n    let candidate = add;\n    assert_eq!(candidate(1, 2), 3);\n"
            "    assert_eq!(candidate(2, 2), 4);\n}\n",
    "java": "public class Main {\n    public static void main(String[] args) {\n"
            "        if (new Solution().add(1, 2) != 3) { throw new AssertionError(); }\n"
            "    }\n}\n",
}
COMPILED_ANSWERS = {
    "c": {"right": "int add(int a, int b) { return a + b; }",
          "exit": "#include <stdlib.h>\nint add(int a, int b) { exit(0); }",
          "no assert": "#define assert(e) ((void)0)\nint add(int a, int b) { return 0; }",
          "own __assert_fail": "void __assert_fail(const char *a, const char *b, unsigned c, "
                               "const char *d) {}\nint add(int a, int b) { return 0; }",
          "reads the source": "#include <stdio.h>\nint add(int a, int b) {\n"
                              "    return fopen(\"main.c\", \"r\") ? a + b : 0;\n}"},
    "rust": {"right": "fn add(a: i64, b: i64) -> i64 { a + b }",
             "exit": "fn add(a: i64, b: i64) -> i64 { std::process::exit(0) }",
             "no assert": "macro_rules! assert_eq { ($($t:tt)*) => {} }\n"
                          "fn add(a: i64, b: i64) -> i64 { 0 }",
             "equals anything": "#[derive(Debug)]\nstruct H;\nimpl PartialEq<i64> for H {\n"
                                "    fn eq(&self, _: &i64) -> bool { true }\n}\n"
                                "fn add(a: i64, b: i64) -> H { H }"},
    "java": {"right": "class Solution { int add(int a, int b) { return a + b; } }",
             "exit": "class Solution { int add(int a, int b) { System.exit(0); return 0; } }"},
}


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(COMPILED_TESTS))
def test_compiled_languages_pass_right_answers_only(language: str,
                                                    sandbox: LocalSandbox) -> None:
    reason = LocalSandbox.available_languages()[language]
    if reason:
        pytest.skip(reason)
    answers = COMPILED_ANSWERS[language]
    judged = Judge(sandbox).run([Submission(language, code, COMPILED_TESTS[language],
                                            timeout_s=30) for code in answers.values()])
    verdicts = {name: j.verdict for name, j in zip(answers, judged, strict=True)}
    assert verdicts.pop("right") == "passed", judged[0].reason
    assert "passed" not in verdicts.values(), verdicts
