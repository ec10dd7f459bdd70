"""Labeling in ``logprobs`` mode: the expected digit of the teacher's next-token distribution.

The arithmetic is checked on known distributions; a tiny random Llama (built from a config,
with a byte-level tokenizer trained here) checks the local teacher end to end against a
forward pass done by hand; a local HTTP server speaking the OpenAI API with ``top_logprobs``
stands in for a hosted endpoint.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from codekiln_core.lineage.run import LineageRun
from codekiln_curate.label.label_dataset import label_dataset, label_files
from codekiln_curate.label.logprobs import (
    ANSWER_PREFIX,
    DIGIT_PROMPT,
    encode_masses,
    expected_rating,
    masses_from_top_logprobs,
    parse_digit_answer,
)
from codekiln_curate.label.recipe import LabelRecipe


def test_expected_rating_is_the_rescaled_mean_digit() -> None:
    assert expected_rating([1.0] + [0.0] * 9) == 0.0
    assert expected_rating([0.0] * 9 + [1.0]) == pytest.approx(10.0)
    assert expected_rating([0.1] * 10) == pytest.approx(5.0)  # uniform: mean digit 4.5
    masses = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.75, 0.0]  # 6 and 8: mean 7.5
    assert expected_rating(masses) == pytest.approx(7.5 * 10 / 9)
    # Unnormalised mass (the rest of the vocabulary) does not change the expectation.
    assert expected_rating([m * 0.2 for m in masses]) == pytest.approx(7.5 * 10 / 9)
    assert expected_rating([0.0] * 10) is None
    assert expected_rating([0.5] * 9) is None


def test_cached_answer_round_trips_and_explains() -> None:
    masses = [0.0, 0.01, 0.02, 0.03, 0.04, 0.3, 0.2, 0.1, 0.05, 0.05]
    score, explanation = parse_digit_answer(encode_masses(masses))
    expected = 10 / 9 * sum(d * m for d, m in enumerate(masses)) / sum(masses)
    assert score == pytest.approx(expected, abs=1e-4)
    assert "digit mass 0.800" in explanation and "6:0.25" in explanation
    assert parse_digit_answer("Rating: [[7]]") == (None, "Rating: [[7]]")


def test_top_logprobs_count_digits_with_or_without_a_space() -> None:
    entries = [{"token": "7", "logprob": math.log(0.5)}, {"token": " 7", "logprob": math.log(0.1)},
               {"token": "3", "logprob": math.log(0.2)}, {"token": "ten", "logprob": -0.1},
               {"token": "10", "logprob": -0.2}]
    masses = masses_from_top_logprobs(entries)
    assert masses[7] == pytest.approx(0.6) and masses[3] == pytest.approx(0.2)
    assert sum(masses) == pytest.approx(0.8)


def test_digit_prompt_keeps_the_rubric() -> None:
    assert "zero-score policy" in DIGIT_PROMPT and "Reusability" in DIGIT_PROMPT
    assert "[[X]]" not in DIGIT_PROMPT and "one digit" in DIGIT_PROMPT


@pytest.fixture(scope="module")
def tiny_teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny Llama and a byte-level BPE with a chat template, saved as an HF dir."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from codekiln_core.bpe import hf_tokenizer, train_byte_level_bpe
    from codekiln_core.testing import TINY_CORPUS, TINY_LLAMA

    out = tmp_path_factory.mktemp("tiny-teacher")
    texts = [*TINY_CORPUS.values(), DIGIT_PROMPT, "Rating: 0 1 2 3 4 5 6 7 8 9"]
    bpe = train_byte_level_bpe(iter([texts]), 400, min_frequency=1)
    hf_tokenizer(bpe).save_pretrained(str(out))
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(out))
    tokenizer.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n"
                               "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
    tokenizer.save_pretrained(str(out))
    torch.manual_seed(0)
    config = LlamaConfig(**{**TINY_LLAMA, "vocab_size": len(tokenizer)})
    LlamaForCausalLM(config).save_pretrained(str(out))
    return out


def _hand_masses(model_dir: Path, prompt: str) -> list[float]:
    """The reference: one unpadded forward pass, softmax, mass of each digit's tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True) + ANSWER_PREFIX
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        probs = torch.softmax(model(input_ids=ids).logits[0, -1].float(), dim=-1)
    masses = []
    for digit in range(10):
        tokens = {t[0] for t in (tokenizer.encode(s, add_special_tokens=False)
                                 for s in (str(digit), f" {digit}")) if len(t) == 1}
        masses.append(float(sum(probs[t] for t in tokens)))
    return masses


def test_hf_teacher_scores_are_the_expected_digit_of_its_own_logits(
    tiny_teacher_dir: Path, tmp_path: Path, tiny_code_corpus: Path
) -> None:
    recipe = LabelRecipe.model_validate({
        "dataset": str(tiny_code_corpus), "output": str(tmp_path / "out"),
        "teacher": {"kind": "hf", "mode": "logprobs", "model_dir": str(tiny_teacher_dir),
                    "batch_size": 3},
        "sampling": {"languages": ["python", "go", "rust"], "per_language": 5,
                     "max_chars": 400},
    })
    from codekiln_curate.label.teacher import build_teacher

    teacher = build_teacher(recipe.teacher)
    result = label_files(recipe, teacher)
    rows = pq.read_table(tmp_path / "out" / "labels.parquet").to_pylist()
    assert result.stats["labeled"] == result.stats["sampled"] >= 4  # mixed lengths: padding
    assert result.stats["unparsable"] == 0 and result.stats["mode"] == "logprobs"
    from codekiln_curate.label.logprobs import build_digit_prompt
    from codekiln_curate.label.sampling import truncate

    for row in rows:
        content = (tiny_code_corpus / row["path"]).read_text()
        prompt = build_digit_prompt(row["language"], truncate(content, 400))
        expected = expected_rating(_hand_masses(tiny_teacher_dir, prompt))
        assert expected is not None
        assert row["score"] == pytest.approx(expected, abs=1e-3), row["path"]
        assert 0.0 <= row["score"] <= 10.0 and isinstance(row["score"], float)
    scores = {row["score"] for row in rows}
    assert len(scores) > 1  # different files, different distributions
    again = label_files(recipe, teacher)
    assert again.stats["cache_hits"] == result.stats["sampled"]


class LogprobServer:
    """OpenAI-style replies with ``top_logprobs``: files marked GOOD lean to 8, others to 2."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                good = "GOOD" in body["messages"][0]["content"]
                top = [{"token": "8" if good else "2", "logprob": math.log(0.6)},
                       {"token": " 9" if good else " 1", "logprob": math.log(0.2)},
                       {"token": "Rating", "logprob": math.log(0.1)}]
                payload = json.dumps({"choices": [{
                    "message": {"role": "assistant", "content": top[0]["token"]},
                    "logprobs": {"content": [{"token": top[0]["token"], "logprob": top[0][
                        "logprob"], "top_logprobs": top}]}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def logprob_server() -> Iterator[LogprobServer]:
    server = LogprobServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()


def test_endpoint_top_logprobs_become_expected_scores(
    logprob_server: LogprobServer, tmp_path: Path
) -> None:
    corpus = tmp_path / "src"
    corpus.mkdir()
    (corpus / "good.py").write_text("# GOOD\ndef f(x):\n    return x + 1\n")
    (corpus / "bad.py").write_text("x=1\ny=2\nz=3\n")
    recipe = LabelRecipe.model_validate({
        "dataset": str(corpus), "output": str(tmp_path / "out"),
        "teacher": {"base_url": logprob_server.url, "model": "m", "mode": "logprobs"},
        "sampling": {"languages": ["python"], "per_language": 5},
    })
    result = label_dataset(recipe, LineageRun(None))
    rows = {r["path"]: r["score"] for r in result.rows}
    assert rows["good.py"] == pytest.approx(10 / 9 * (8 * 0.6 + 9 * 0.2) / 0.8, abs=1e-3)
    assert rows["bad.py"] == pytest.approx(10 / 9 * (2 * 0.6 + 1 * 0.2) / 0.8, abs=1e-3)
    body = logprob_server.bodies[0]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
