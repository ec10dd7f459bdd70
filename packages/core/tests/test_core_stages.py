"""The stage contract: classification by protocol, options models, and the package exports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field

import codekiln_core
from codekiln_core import stages
from codekiln_core.errors import ConfigError
from codekiln_core.stages import Document, StageKind, StageOptions, build_stage, stage_kind


class KeepAll:
    name: ClassVar[str] = "keep-all"

    def filter(self, doc: Document) -> bool:
        return True


class DropOdd:
    name: ClassVar[str] = "drop-odd"

    def filter_batch(self, batch: Any) -> Sequence[str | None]:
        return [None if i % 2 == 0 else "odd" for i in range(batch.num_rows)]


class Length:
    name: ClassVar[str] = "length"
    signal_columns: ClassVar[Mapping[str, str]] = {"length": "int64"}

    def signals(self, doc: Document) -> Mapping[str, Any]:
        return {"length": len(doc["content"])}


class BatchLength(Length):
    name: ClassVar[str] = "batch-length"

    def signals_batch(self, docs: Sequence[Document]) -> Sequence[Mapping[str, Any]]:
        return [self.signals(doc) for doc in docs]


class Dedup:
    name: ClassVar[str] = "dedup"
    cluster_column: ClassVar[str] = "dup_cluster"

    def keys(self, docs: Sequence[Document]) -> Any:
        return None

    def decide(self, key_tables: Sequence[Path], workdir: Path) -> stages.Decisions:
        return {}


@pytest.mark.parametrize(("cls", "kind"), [
    (KeepAll, StageKind.FILTER), (DropOdd, StageKind.BATCH_FILTER),
    (Length, StageKind.SIGNAL), (BatchLength, StageKind.BATCH_SIGNAL),
    (Dedup, StageKind.GLOBAL),
])
def test_stages_are_classified_by_protocol(cls: type, kind: StageKind) -> None:
    assert stage_kind(cls) is kind and stage_kind(cls()) is kind
    assert stages.signal_columns(cls) == ({"length": "int64"} if "ength" in cls.__name__ else {})


def test_an_object_of_no_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="satisfies no stage protocol"):
        stage_kind(object)


class WindowOptions(StageOptions):
    size: int = Field(default=3, ge=1, description="lines per window")


class Window:
    name: ClassVar[str] = "window"
    options_model: ClassVar[type[StageOptions]] = WindowOptions

    def __init__(self, options: WindowOptions) -> None:
        self.size = options.size

    def filter(self, doc: Document) -> bool:
        return True


def test_options_models_are_validated_in_one_line() -> None:
    assert build_stage(Window, {"size": "5"}, source="r.yaml", key="stages[1].options").size == 5
    with pytest.raises(ConfigError) as err:
        build_stage(Window, {"size": 0}, source="r.yaml", key="stages[1].options")
    assert str(err.value) == ("r.yaml: key 'stages[1].options.size' = 0: Input should be "
                              "greater than or equal to 1 (expected: lines per window)")
    with pytest.raises(ConfigError, match=r"unknown key 'stages\[1\].options.sise'; allowed "
                       "keys here: size"):
        build_stage(Window, {"sise": 2}, source="r.yaml", key="stages[1].options")


def test_a_stage_without_a_model_gets_keyword_options() -> None:
    with pytest.raises(ConfigError, match=r"^r.yaml: stages\[0\].options = \{'x': 1\}"):
        build_stage(KeepAll, {"x": 1}, source="r.yaml", key="stages[0].options")


def test_the_package_exports_what_a_plugin_author_needs() -> None:
    from codekiln_core import hookspecs

    assert codekiln_core.hookimpl is hookspecs.hookimpl
    assert codekiln_core.Register is hookspecs.Register
    for name in ("Filter", "BatchFilter", "SignalStage", "BatchSignalStage", "GlobalStage",
                 "Document", "StageOptions"):
        assert getattr(codekiln_core, name) is getattr(stages, name)
    with pytest.raises(AttributeError):
        codekiln_core.NoSuchThing  # noqa: B018


def test_importing_the_package_stays_cheap() -> None:
    heavy = "('pluggy', 'pydantic', 'typer', 'mlflow')"
    code = f"import sys, codekiln_core; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
