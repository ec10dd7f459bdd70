"""Prompt text for chat (instruct) models; base models get the benchmark's code prefix as is.

Wording is ours; the shape follows common practice: restate the problem, show the code to
complete, and ask for one fenced block so extraction is unambiguous.
"""

from __future__ import annotations

from codekiln_core.languages import display

#: Stop sequences for Python function completion (a new top-level statement ends the body).
PYTHON_FUNCTION_STOPS: tuple[str, ...] = ("\nclass ", "\ndef ", "\n#", "\nif ", "\nprint(")

def complete_function(prompt: str, language: str = "python") -> str:
    """Ask a chat model to finish a function given its signature and docstring."""
    fence, lang = language, display(language)
    return (
        f"Complete the following {lang} function. Reply with the complete, self-contained "
        f"function (including the signature and any imports it needs) in a single "
        f"```{fence} code block.\n\n```{fence}\n{prompt.strip()}\n```"
    )


def solve_with_tests(text: str, tests: list[str], language: str = "python") -> str:
    """Ask for a function from a description plus the tests it must pass (MBPP style)."""
    fence = language
    shown = "\n".join(tests)
    return (
        f"{text.strip()}\nYour code should pass these tests:\n\n```{fence}\n{shown}\n```\n\n"
        f"Reply with the solution in a single ```{fence} code block."
    )


def mbpp_completion_prompt(text: str, first_test: str) -> str:
    """EvalPlus-style base-model prompt: the task and one test as a module docstring."""
    return f'"""\n{text.strip()}\n{first_test.strip()}\n"""\n'


def competition_problem(question: str, starter_code: str) -> str:
    """A contest problem: complete the starter class, or read stdin and write stdout."""
    if starter_code.strip():
        how = (
            "Complete the following starter code; your answer must define it fully.\n\n"
            f"```python\n{starter_code.rstrip()}\n```"
        )
    else:
        how = (
            "Read the input from standard input and write the answer to standard output "
            "(do not just define a function: the program must run)."
        )
    return (
        f"Solve this programming problem in Python.\n\n{question.strip()}\n\n{how}\n\n"
        "Reply with the whole program in a single ```python code block."
    )
