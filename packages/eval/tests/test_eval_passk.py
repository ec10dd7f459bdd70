from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codekiln_core.errors import ConfigError
from codekiln_eval.passk import mean_pass_at_k, pass_at_k


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@given(st.integers(1, 200).flatmap(lambda n: st.tuples(
    st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_codex_formula_exactly(args: tuple[int, int, int]) -> None:
    n, c, k = args
    assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), abs=1e-12)


def test_edges() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(5000, 3, 100) == pytest.approx(float(exact(5000, 3, 100)))
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    assert mean_pass_at_k([(10, 5), (10, 0)], 1) == pytest.approx(0.25)
    assert mean_pass_at_k([(1, 1)], 2) is None


def test_ks_take_commas_and_must_fit_the_samples() -> None:
    from codekiln_core.config import validate
    from codekiln_eval.evaluate import EvalSettings

    base = {"benchmark": "humaneval", "model": "http://127.0.0.1:9/v1", "n": 10}
    assert validate({**base, "ks": "10,1"}, EvalSettings, source="r").ks == [1, 10]
    assert validate({**base, "ks": ["1,2", "5"]}, EvalSettings, source="r").ks == [1, 2, 5]
    with pytest.raises(ConfigError, match="raise n to at least 10"):
        validate({**base, "n": 5, "ks": "1,10"}, EvalSettings, source="r")
    with pytest.raises(ConfigError, match=r"key 'ks\.0' = 'a'"):
        validate({**base, "ks": "a"}, EvalSettings, source="r")
