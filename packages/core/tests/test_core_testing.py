"""The pytest plugin that every package's tests use: markers, gpu skipping, fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekiln_core.testing import TINY_CORPUS, TINY_LLAMA, cuda_available

pytest_plugins = ["pytester"]


def test_markers_are_registered(pytestconfig: pytest.Config):
    markers = "\n".join(pytestconfig.getini("markers"))
    for name in ("slow:", "gpu:", "sandbox:"):
        assert name in markers


def test_gpu_tests_skip_without_cuda(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.gpu
        def test_needs_gpu():
            assert False, "must not run without CUDA"

        def test_plain():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "-rs")
    if cuda_available():
        result.assert_outcomes(passed=1, failed=1)
    else:
        result.assert_outcomes(passed=1, skipped=1)
        result.stdout.fnmatch_lines(["*needs a CUDA device*"])


def test_tiny_code_corpus(tiny_code_corpus: Path):
    files = sorted(p.relative_to(tiny_code_corpus).as_posix() for p in
                   tiny_code_corpus.rglob("*") if p.is_file())
    assert files == sorted(TINY_CORPUS)
    assert (tiny_code_corpus / "calc/ops.py").read_text().startswith('"""Arithmetic')


def test_mlflow_store_is_private_and_set(mlflow_store: str, tmp_path: Path):
    assert os.environ["MLFLOW_TRACKING_URI"] == mlflow_store
    assert mlflow_store.startswith("sqlite:///") and str(tmp_path) in mlflow_store


@pytest.mark.slow
def test_tiny_llama_config_builds_a_model_that_runs(request: pytest.FixtureRequest):
    # codekiln-core itself never depends on torch/transformers; the stage packages that train
    # do, and run this check in their environments (and in the whole workspace's).
    torch = pytest.importorskip("torch", reason="codekiln-core alone ships no torch")
    transformers = pytest.importorskip("transformers", reason="codekiln-core alone ships "
                                       "no transformers")
    tiny_llama_config = request.getfixturevalue("tiny_llama_config")
    LlamaForCausalLM = transformers.LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config)
    assert sum(p.numel() for p in model.parameters()) < 100_000
    ids = torch.tensor([[0, 5, 9, 2]])
    out = model(input_ids=ids, labels=ids)
    assert out.logits.shape == (1, 4, TINY_LLAMA["vocab_size"])
    assert torch.isfinite(out.loss)
