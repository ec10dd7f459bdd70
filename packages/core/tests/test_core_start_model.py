"""What a start-model reference names, how each kind becomes a local directory, and how
lineage records it: a hub id resolved offline from a hub cache laid out as the hub client
leaves it (no network here), a GGUF file and ``pkg:NAME`` found without importing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.start_model import (
    package_dir,
    parse_start_model,
    start_model_config,
    start_model_dir,
    start_model_input,
)
from codekiln_core.testing import hub_cache_layout


def _model_dir(root: Path, **config: object) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"model_type": "llama", **config}))
    (root / "tokenizer.json").write_text("{}")
    return root


def test_each_form_is_recognised(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "model")
    gguf_dir = tmp_path / "gguf"
    gguf_dir.mkdir()
    (gguf_dir / "m.Q4.gguf").write_bytes(b"GGUF")
    assert parse_start_model(str(model)).kind == "dir"
    assert parse_start_model(str(gguf_dir)).location == str(gguf_dir / "m.Q4.gguf")
    assert parse_start_model(str(gguf_dir / "m.Q4.gguf")).kind == "gguf"
    hub = parse_start_model("ByteDance-Seed/Seed-Coder-8B-Base@v1")
    assert (hub.kind, hub.location, hub.revision) == ("hub", "ByteDance-Seed/Seed-Coder-8B-Base",
                                                      "v1")
    assert hub.source == "hf://ByteDance-Seed/Seed-Coder-8B-Base@v1"
    assert parse_start_model("models:/base/3").kind == "registered"


@pytest.mark.parametrize(("ref", "expected"), [
    ("", "model is empty"),
    ("./no/such/dir", "no such directory, and not a hub id"),
    ("a/b/c", "no such directory, and not a hub id"),
    ("pkg:codekiln_no_such_package", "package 'codekiln_no_such_package' is not installed"),
])
def test_bad_references_are_one_line_errors(ref: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        parse_start_model(ref)
    assert "\n" not in str(info.value)


def test_a_directory_needs_a_config_or_one_gguf(tmp_path: Path) -> None:
    (tmp_path / "a.gguf").write_bytes(b"")
    (tmp_path / "b.gguf").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"has 2 \.gguf files"):
        parse_start_model(str(tmp_path))


def test_pkg_names_an_installed_package_directory() -> None:
    import codekiln_core

    assert Path(package_dir("pkg:codekiln_core")) == Path(codekiln_core.__file__).parent
    assert package_dir("pkg:codekiln_core/fim.py").endswith("codekiln_core/fim.py")
    assert package_dir("some/dir") == "some/dir"


def test_a_local_directory_is_used_in_place_and_digested(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "model", hidden_size=8)
    start = parse_start_model(str(model))
    assert start_model_dir(start) == model
    assert start_model_config(start)["hidden_size"] == 8
    ref = start_model_input(start)
    assert ref.name == "start-model" and ref.source == str(model.resolve()) and ref.digest


def test_a_hub_id_resolves_from_the_hub_cache_offline(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    files = _model_dir(tmp_path / "files", hidden_size=16)
    (files / "model.safetensors").write_bytes(b"weights")
    (files / "pytorch_model.bin").write_bytes(b"never fetched")
    snapshot = hub_cache_layout(tmp_path / "hub", "tiny-org/tiny-coder", files,
                                commit="c0ffee" * 6 + "c0ff")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = parse_start_model("tiny-org/tiny-coder")
    assert start_model_config(start)["hidden_size"] == 16
    assert start_model_dir(start) == snapshot
    ref = start_model_input(start)
    assert (ref.source, ref.digest) == ("hf://tiny-org/tiny-coder", "hf:c0ffeec0ffee")


def test_an_unreachable_hub_id_says_how_to_get_it(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as info:
        start_model_config(parse_start_model("nobody/nothing"))
    message = str(info.value)
    assert "\n" not in message and "local hub cache" in message and "--local-dir DIR" in message
