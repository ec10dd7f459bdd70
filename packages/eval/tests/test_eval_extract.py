from __future__ import annotations

from codekiln_eval.benchmarks.cruxeval import is_call_args, is_expression, split_assertion
from codekiln_eval.extract import extract_code, python_imports, truncate_at_stops

ANSWER = """Here is an example:
```python
print(add(1, 2))
```
And the solution:
```python
def add(a, b):
    return a + b
```
```cpp
int add(int a, int b) { return a + b; }
```
"""


def test_picks_block_defining_entry_point() -> None:
    assert extract_code(ANSWER, "python", "add").startswith("def add")
    assert "int add" in extract_code(ANSWER, "cpp", "add")


def test_language_tags_and_fallbacks() -> None:
    assert extract_code("```py\nx = 1\n```", "python") == "x = 1\n"
    assert extract_code("no fences here", "python") == "no fences here"
    unclosed = "```python\ndef f():\n    return 1\n"
    assert extract_code(unclosed, "python", "f") == "def f():\n    return 1\n"
    assert "console" in extract_code("```js\nconsole.log(1)\n```", "javascript")


def test_stops_and_imports() -> None:
    assert truncate_at_stops("    return 1\ndef g():\n", ("\ndef ",)) == "    return 1"
    assert python_imports("from typing import List\n\ndef f(): pass\n") == (
        "from typing import List\n")


def test_cruxeval_answers_cannot_escape_their_slot() -> None:
    assert split_assertion("assert f(1, 'a') == [1]") == ("1, 'a'", "[1]")
    assert is_expression("[1, 2]") and not is_expression("x) or (True")
    assert is_call_args("1, 2") and not is_call_args("1) or (True")
