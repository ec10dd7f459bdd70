"""Each language with a toolchain here: a passing, a failing and a non-compiling program."""

from __future__ import annotations

import pytest

from codekiln_core.sandbox import LocalSandbox, RunRequest, Verdict

pytestmark = pytest.mark.sandbox

AVAILABLE = LocalSandbox.available_languages()

CASES: dict[str, tuple[str, str, str | None]] = {
    # language: (passes, fails a check, does not compile)
    "c": ('#include <assert.h>\n#include <stdio.h>\nint add(int a,int b){return a+b;}\n'
          'int main(){assert(add(2,3)==5);puts("ok");return 0;}',
          '#include <assert.h>\nint add(int a,int b){return a-b;}\n'
          'int main(){assert(add(2,3)==5);return 0;}',
          'int main(){ return 0 }'),
    "cpp": ('#include <cassert>\n#include <iostream>\n'
            'int main(){assert(2+3==5);std::cout<<"ok\\n";}',
            '#include <cassert>\nint main(){assert(2-3==5);}',
            'int main(){ undeclared; }'),
    "java": ('public class Main { public static void main(String[] a) {\n'
             ' if (2 + 3 != 5) throw new AssertionError("add");\n System.out.println("ok"); } }',
             'public class Main { public static void main(String[] a) {\n'
             ' if (2 - 3 != 5) throw new AssertionError("add"); } }',
             'public class Main { broken }'),
    "javascript": ('const assert = require("assert");\n'
                   'assert.strictEqual(2 + 3, 5);\nconsole.log("ok");',
                   'const assert = require("assert");\nassert.strictEqual(2 - 3, 5);',
                   None),
    "rust": ('fn main() { assert_eq!(2 + 3, 5); println!("ok"); }',
             'fn main() { assert_eq!(2 - 3, 5); }',
             'fn main() { let x: i32 = "no"; }'),
    "go": ('package main\nimport "fmt"\n'
           'func main() { if 2+3 != 5 { panic("add") }\n fmt.Println("ok") }',
           'package main\nimport "os"\nfunc main() { if 2-3 != 5 { os.Exit(1) } }',
           'package main\nfunc main() { x := }'),
    "bash": ('[ $((2+3)) -eq 5 ] || exit 1\necho ok', '[ $((2-3)) -eq 5 ] || exit 1', None),
}


def _skip_unless_available(language: str) -> None:
    reason = AVAILABLE.get(language)
    if reason:
        pytest.skip(f"{language}: {reason}")


@pytest.mark.parametrize("language", sorted(CASES))
def test_language_verdicts(sandbox: LocalSandbox, language: str) -> None:
    _skip_unless_available(language)
    passing, failing, broken = CASES[language]
    ok = sandbox.run(RunRequest(language, passing, timeout_s=10))
    assert ok.verdict is Verdict.PASSED, (ok.detail, ok.stderr, ok.compile_output)
    assert ok.stdout.strip() == "ok"
    bad = sandbox.run(RunRequest(language, failing, timeout_s=10))
    assert bad.verdict is Verdict.FAILED, (bad.detail, bad.stderr)
    if broken is not None:
        wrong = sandbox.run(RunRequest(language, broken, timeout_s=10))
        assert wrong.verdict is Verdict.COMPILE_ERROR, (wrong.detail, wrong.stderr)
        assert wrong.compile_output


@pytest.mark.parametrize("language", ["c", "cpp"])
def test_native_crash_is_a_runtime_error(sandbox: LocalSandbox, language: str) -> None:
    _skip_unless_available(language)
    code = "int main(){ volatile int *p = 0; *p = 1; return 0; }"
    result = sandbox.run(RunRequest(language, code))
    assert result.verdict is Verdict.RUNTIME_ERROR
    assert "SIGSEGV" in result.detail


def test_java_uncaught_exception_is_a_runtime_error(sandbox: LocalSandbox) -> None:
    _skip_unless_available("java")
    code = ("public class Main { public static void main(String[] a) "
            "{ int[] x = new int[1]; x[2] = 0; } }")
    result = sandbox.run(RunRequest("java", code))
    assert result.verdict is Verdict.RUNTIME_ERROR, result.stderr


def test_java_assert_statement_is_checked(sandbox: LocalSandbox) -> None:
    """The JVM skips ``assert`` unless run with ``-ea``; a false one must fail the run."""
    _skip_unless_available("java")
    code = ("public class Main { public static void main(String[] a) "
            "{ assert 2 - 3 == 5 : \"add\"; System.out.println(\"reached\"); } }")
    result = sandbox.run(RunRequest("java", code, timeout_s=10))
    assert result.verdict is Verdict.FAILED, (result.detail, result.stderr)
    assert "reached" not in result.stdout


def test_missing_toolchain_is_a_sandbox_error_not_a_failure(sandbox: LocalSandbox) -> None:
    missing = [name for name, reason in AVAILABLE.items() if reason]
    if not missing:
        pytest.skip("every toolchain is installed here")
    result = sandbox.run(RunRequest(missing[0], "x"))
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert "toolchain not found" in result.detail


def test_c_program_reads_stdin(sandbox: LocalSandbox) -> None:
    _skip_unless_available("c")
    code = '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a+b);}'
    result = sandbox.run(RunRequest("c", code, stdin="2 40"))
    assert result.verdict is Verdict.PASSED
    assert result.stdout == "42\n"
