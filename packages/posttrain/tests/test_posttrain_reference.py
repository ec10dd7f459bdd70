"""DPO's stored reference log-probs are reused only for the model, data and settings they
were computed for; any other file is refused with a one-line error, never read."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_posttrain.dpo import Pair
from codekiln_posttrain.reference import read_stored, reference_key, write_stored


def test_stored_values_come_back_only_for_their_key(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    pairs = [Pair("a", [1, 2], [3], [4]), Pair("b", [1], [5, 6], [7])]
    key = reference_key(str(model), pairs)
    path = tmp_path / "reference_logps.jsonl"
    assert read_stored(path, key) is None
    write_stored(path, key, {"a": (-1.5, -2.5), "b": (-3.0, -4.0)})
    assert read_stored(path, key) == {"a": (-1.5, -2.5), "b": (-3.0, -4.0)}

    other_data = reference_key(str(model), [pairs[0], Pair("b", [1], [5, 6], [8])])
    with pytest.raises(ConfigError, match=r"computed for another data \(") as error:
        read_stored(path, other_data)
    assert str(path) in str(error.value) and "delete the file" in str(error.value)
    (model / "model.safetensors").write_bytes(b"other weights")
    with pytest.raises(ConfigError, match="computed for another model"):
        read_stored(path, reference_key(str(model), pairs))

    path.write_text('{"id": "a", "chosen": -1.5, "rejected": -2.5}\n')  # no key: refused
    with pytest.raises(ConfigError, match="another model/data/settings"):
        read_stored(path, key)
