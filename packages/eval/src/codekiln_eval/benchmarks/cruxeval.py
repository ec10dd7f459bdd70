"""CRUXEval (Meta, 800 short functions): predict an output (CRUX-O) or an input (CRUX-I).

The answer is a Python expression; the check is ``assert f(<input>) == <output>`` with the
model's expression in one slot and the upstream value in the other, so a model can never
make a check pass by restating its own guess on both sides. The model's expression is the
judged answer (evaluated before the tests run); the assertion is the test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.extract import truncate_at_stops

_ANSWER = re.compile(r"\[ANSWER\](.*?)(?:\[/ANSWER\]|\Z)", re.DOTALL)
_FENCE = re.compile(r"```(?:python|py)?\s*\n?(.*?)(?:```|\Z)", re.DOTALL)


def split_assertion(line: str) -> tuple[str, str] | None:
    """(input args, output) of ``assert f(ARGS) == OUT``, or None when it does not parse."""
    line = line.strip()
    if not line.startswith("assert"):
        return None
    try:
        node = ast.parse(line).body[0]
    except SyntaxError:
        return None
    test = getattr(node, "test", None)
    if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Call)
            and len(test.comparators) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    call = ast.get_source_segment(line, test.left) or ""
    out = ast.get_source_segment(line, test.comparators[0]) or ""
    args = call[call.index("(") + 1: -1] if "(" in call else ""
    return args.strip(), out.strip()


def is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")  # unwrapped: "x) or (True" must not parse
    except SyntaxError:
        return False
    return bool(text.strip())


def is_call_args(text: str) -> bool:
    try:
        node = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name)


class CRUXEvalOutput(Benchmark):
    name = "cruxeval-o"
    license = "MIT"
    bundled = True
    hub_repo = "cruxeval-org/cruxeval"
    hub_patterns = ("*.parquet", "*.jsonl")
    local_patterns = ("cruxeval.jsonl",)
    decontamination_fields = ("code",)
    id_field = "id"
    stop = ("\n", "[/ANSWER]")
    #: Which slot the model fills: "output" (CRUX-O) or "input" (CRUX-I).
    predict: ClassVar[str] = "output"

    def to_task(self, record: Mapping[str, Any]) -> Task:
        code, inp, out = record["code"], record["input"], record["output"]
        if self.predict == "output":
            question = f"assert f({inp}) == ??"
            lead = f"assert f({inp}) == "
            what = "the output of the function on the given input"
        else:
            question = f"assert f(??) == {out}"
            lead = "assert f("
            what = "an input on which the function returns the given output"
        body = f"[PYTHON]\n{code}\n{question}\n[/PYTHON]"
        prompt = f"Find {what}. Complete the assertion with a literal.\n\n{body}\n[ANSWER]\n{lead}"
        instruction = (
            f"Find {what}. Reason if you like, then give the completed assertion with a "
            f"literal in place of ?? between [ANSWER] and [/ANSWER], e.g.\n"
            f"[ANSWER]assert f(...) == ...[/ANSWER]\n\n{body}"
        )
        return Task(record["id"], "python", prompt, instruction, "f", record)

    def answer_from_assertion(self, task: Task, line: str) -> str:
        parts = split_assertion(line)
        if parts is None:
            return line.strip()
        return parts[1] if self.predict == "output" else parts[0]

    def solution_from_completion(self, task: Task, completion: str) -> str:
        text = truncate_at_stops(completion, self.stop)
        lead = task.prompt[task.prompt.rindex("assert f("):]
        return self.answer_from_assertion(task, lead + text)

    def solution_from_chat(self, task: Task, answer: str) -> str:
        tagged = _ANSWER.findall(answer) or _FENCE.findall(answer) or [answer]
        for chunk in reversed(tagged):
            for line in reversed(chunk.strip().splitlines()):
                if line.strip().startswith("assert"):
                    return self.answer_from_assertion(task, line)
        return str(tagged[-1]).strip()

    def reference_solution(self, task: Task) -> str | None:
        return str(task.record[self.predict])

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        rec = task.record
        inp = solution if self.predict == "input" else rec["input"]
        out = solution if self.predict == "output" else rec["output"]
        if not (is_call_args(inp) and is_expression(out)):
            # Only a literal-like slot is allowed; "1) or (True" must not escape it.
            return {"base": Submission(
                "python", "raise SystemExit('answer is not a single expression')\n")}
        if self.predict == "output":
            answer, test = f"_cruxeval_answer = ({out})", f"assert f({inp}) == _cruxeval_answer"
        else:
            answer, test = f"_cruxeval_answer = f({inp})", f"assert _cruxeval_answer == ({out})"
        return {"base": Submission("python", f"{rec['code']}\n\n{answer}\n", f"{test}\n")}


class CRUXEvalInput(CRUXEvalOutput):
    name = "cruxeval-i"
    predict = "input"
