"""Where benchmark texts come from: the bundled benchmarks, recipe files, the shared
benchmark folder, plugins.

The bundled copy (codekiln-benchmark-data: HumanEval, HumanEval+, MBPP, MBPP sanitized,
MBPP+, CRUXEval, HumanEval-X) has the shared folder's layout, so one field table serves both.

Every source yields :class:`BenchmarkText` items ``(benchmark, task_id, text)``; one item per
text field, so no n-gram spans two fields that never appear together.

Plugin protocol: a benchmark registered through ``codekiln_register_benchmarks`` takes part
in decontamination when the registered object (class or instance) has a method
``decontamination_texts() -> Iterable[tuple[str, str]]`` yielding ``(task_id, text)``. A
class is instantiated with no arguments unless the method is a classmethod/staticmethod.
"""

from __future__ import annotations

import gzip
import inspect
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.registry import Registry


@dataclass(frozen=True)
class BenchmarkText:
    """One text of one benchmark task."""

    benchmark: str
    task_id: str
    text: str


@dataclass(frozen=True)
class SharedFile:
    """A file of the shared benchmark folder and the fields decontamination reads."""

    glob: str
    benchmark: str
    fields: tuple[str, ...]
    id_field: str


#: Every benchmark file we read, with the fields its texts come from. The OriginFmt EvalPlus
#: files repeat the plain ones plus generated test inputs, so they are left out.
SHARED_FILES: tuple[SharedFile, ...] = (
    SharedFile("humaneval/HumanEval.jsonl.gz", "humaneval",
               ("prompt", "canonical_solution", "test"), "task_id"),
    SharedFile("evalplus/HumanEvalPlus-v*.jsonl.gz", "humaneval-plus",
               ("prompt", "canonical_solution", "test"), "task_id"),
    SharedFile("mbpp/mbpp.jsonl", "mbpp", ("text", "code", "test_list"), "task_id"),
    SharedFile("mbpp/sanitized-mbpp.json", "mbpp-sanitized",
               ("prompt", "code", "test_list"), "task_id"),
    SharedFile("evalplus/MbppPlus-v*.jsonl.gz", "mbpp-plus",
               ("prompt", "canonical_solution", "assertion"), "task_id"),
    SharedFile("cruxeval/cruxeval.jsonl", "cruxeval", ("code",), "id"),
    SharedFile("humaneval-x/humaneval_*.jsonl.gz", "humaneval-x",
               ("prompt", "declaration", "canonical_solution", "test"), "task_id"),
    SharedFile("multipl-e/humaneval-*-reworded.jsonl.gz", "multipl-e",
               ("prompt", "tests"), "name"),
    SharedFile("livecodebench/*.jsonl", "livecodebench",
               ("question_content", "starter_code"), "question_id"),
    SharedFile("mhpp/MHPP.jsonl", "mhpp", ("question",), "id"),
)  # fmt: skip


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a ``.jsonl``, ``.jsonl.gz``, ``.json`` (array) or ``.json.gz`` file."""
    opener = gzip.open if path.suffix == ".gz" else open
    stem = path.name[:-3] if path.suffix == ".gz" else path.name
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            if stem.endswith(".json"):
                data = json.load(fh)
                if not isinstance(data, list):
                    raise ConfigError(f"benchmark file {path} is JSON but not an array of records")
                yield from data
                return
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ConfigError(f"benchmark file {path} line {number}: {exc}") from exc
    except FileNotFoundError as exc:
        raise ConfigError(f"benchmark file {path} does not exist; fix its path") from exc


def field_text(value: Any) -> str:
    """Text of a field: lists (e.g. ``test_list``) joined by newlines, None as empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(field_text(v) for v in value)
    return str(value)


def texts_from_file(
    path: Path, benchmark: str, fields: Sequence[str], id_field: str = "task_id"
) -> Iterator[BenchmarkText]:
    """One :class:`BenchmarkText` per (record, field); a missing field is a ConfigError."""
    prefix = ""
    if benchmark == "multipl-e":  # task names repeat across languages
        prefix = path.name.split("-")[1] + "/"
    for index, record in enumerate(read_records(path)):
        task_id = prefix + str(record.get(id_field, index))
        for name in fields:
            if name not in record:
                raise ConfigError(
                    f"benchmark file {path} record {task_id} has no field {name!r}; "
                    f"fields are {sorted(record)}"
                )
            text = field_text(record[name])
            if text.strip():
                yield BenchmarkText(benchmark, task_id, text)


def texts_from_shared_dir(
    directory: str | Path, only: Iterable[str] | None = None
) -> Iterator[BenchmarkText]:
    """Every known benchmark file in ``directory`` (one folder per benchmark, as
    ``SHARED_FILES`` lists)."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(f"benchmarks_dir {root} is not a directory; fix the path")
    wanted = set(only) if only is not None else None
    for spec in SHARED_FILES:
        if wanted is not None and spec.benchmark not in wanted:
            continue
        for path in sorted(root.glob(spec.glob)):
            yield from texts_from_file(path, spec.benchmark, spec.fields, spec.id_field)


def texts_from_bundled(only: Iterable[str] | None = None) -> Iterator[BenchmarkText]:
    """Every benchmark shipped in codekiln-benchmark-data (no download, no local copy)."""
    from codekiln_core.extras import require

    require("codekiln_benchmark_data", "decontamination against the bundled benchmarks")
    import codekiln_benchmark_data

    yield from texts_from_shared_dir(codekiln_benchmark_data.root(), only)


def bundled_benchmarks() -> tuple[str, ...]:
    """Names (as in :data:`SHARED_FILES`) of the benchmarks ``texts_from_bundled`` reads."""
    from codekiln_core.extras import require

    require("codekiln_benchmark_data", "decontamination against the bundled benchmarks")
    import codekiln_benchmark_data

    root = codekiln_benchmark_data.root()
    return tuple(spec.benchmark for spec in SHARED_FILES if any(root.glob(spec.glob)))


def texts_from_recipe_files(entries: Iterable[Mapping[str, Any]]) -> Iterator[BenchmarkText]:
    """Entries ``{name, path, fields, id_field?}`` from the recipe's ``benchmark_files``."""
    for number, entry in enumerate(entries):
        missing = {"name", "path", "fields"} - set(entry)
        if missing:
            raise ConfigError(
                f"benchmark_files[{number}] lacks {sorted(missing)}; give name, path, fields"
            )
        yield from texts_from_file(
            Path(entry["path"]), str(entry["name"]), list(entry["fields"]),
            str(entry.get("id_field", "task_id")),
        )  # fmt: skip


def texts_from_plugin(
    name: str, obj: Any, data: str | Path | None = None
) -> Iterator[BenchmarkText]:
    """Texts of a registered benchmark implementing ``decontamination_texts()``.

    A class is instantiated first, with ``data=<benchmarks_dir>`` when its constructor takes
    ``data`` and a directory is known. Any failure to load is a one-line ConfigError naming
    the benchmark: silently skipping one would weaken decontamination unnoticed.
    """
    try:
        target: Any = obj
        if inspect.isclass(obj):
            factory: Any = obj
            raw = inspect.getattr_static(obj, "decontamination_texts", None)
            if not isinstance(raw, classmethod | staticmethod):
                takes_data = "data" in inspect.signature(factory).parameters
                target = factory(data=data) if data is not None and takes_data else factory()
        items = list(target.decontamination_texts())
    except Exception as exc:
        raise ConfigError(
            f"benchmark plugin {name!r} gave no decontamination texts ({type(exc).__name__}: "
            f"{exc}); point benchmarks_dir at local data, list loadable ones in `benchmarks`, "
            "or set use_plugins: false"
        ) from exc
    for task_id, text in items:
        if text and str(text).strip():
            yield BenchmarkText(name, str(task_id), str(text))


def texts_from_plugins(
    only: Iterable[str] | None = None,
    registry: Registry | None = None,
    data: str | Path | None = None,
    *,
    exclude: Iterable[str] = (),
    skip_unavailable: bool = False,
) -> Iterator[BenchmarkText]:
    """Texts of every registered benchmark that implements the protocol (others skipped).

    ``registry`` defaults to one over every installed plugin; ``exclude`` names benchmarks
    already indexed from files. With ``skip_unavailable``, a benchmark found by discovery
    (not named in ``only``) whose data is not here is skipped with one warning naming it;
    a named one must always load.
    """
    import sys

    if registry is None:
        from codekiln_core.plugins import get_plugin_manager
        from codekiln_core.registry import Registry

        registry = Registry(get_plugin_manager(warn=False))
    wanted = set(only) if only is not None else None
    excluded, skipped = set(exclude), []
    for name, registration in sorted(registry.all("benchmark").items()):
        if name in excluded or (wanted is not None and name not in wanted):
            continue
        if not hasattr(registration.obj, "decontamination_texts"):
            continue
        try:
            texts = list(texts_from_plugin(name, registration.obj, data))
        except ConfigError:
            if wanted is not None or not skip_unavailable:
                raise
            skipped.append(name)
            continue
        yield from texts
    if skipped:
        print(f"warning: decontamination skips benchmarks with no data here: "
              f"{', '.join(skipped)} (point benchmarks_dir at a folder that has them, or "
              "turn plugin benchmarks off)", file=sys.stderr)
