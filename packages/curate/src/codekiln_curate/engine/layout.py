"""Where a run keeps its files: data/ and dropped/ for users, _state/ for resume."""

from __future__ import annotations

from pathlib import Path

STATE = "_state"


def state_dir(out: Path) -> Path:
    return out / STATE


def pass_dir(out: Path, pass_index: int) -> Path:
    return out / STATE / f"pass-{pass_index}"


def kept_file(out: Path, pass_index: int, sid: str) -> Path:
    return pass_dir(out, pass_index) / f"{sid}.kept.parquet"


def dropped_file(out: Path, pass_index: int, sid: str) -> Path:
    return pass_dir(out, pass_index) / f"{sid}.dropped.parquet"


def keys_file(out: Path, pass_index: int, sid: str) -> Path:
    return pass_dir(out, pass_index) / f"{sid}.keys.parquet"


def marker(out: Path, pass_index: int, sid: str) -> Path:
    return pass_dir(out, pass_index) / f"{sid}.done.json"


def global_dir(out: Path, pass_index: int) -> Path:
    """Spill and decisions of the global stage that ends pass ``pass_index``."""
    return out / STATE / f"global-{pass_index}"


def decisions_file(out: Path, pass_index: int, sid: str) -> Path:
    return global_dir(out, pass_index) / "decisions" / f"{sid}.parquet"


def global_marker(out: Path, pass_index: int) -> Path:
    return global_dir(out, pass_index) / "done.json"


def data_file(out: Path, sid: str) -> Path:
    return out / "data" / f"part-{sid}.parquet"


def dropped_output_file(out: Path, sid: str) -> Path:
    return out / "dropped" / f"part-{sid}.parquet"


def plan_file(out: Path) -> Path:
    return out / STATE / "plan.json"
