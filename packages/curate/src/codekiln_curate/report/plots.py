"""Histograms of numeric signals, kept vs dropped, as PNG (matplotlib Agg, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def numeric_signals(fields: list[tuple[str, pa.DataType]]) -> list[str]:
    return [name for name, kind in fields
            if pa.types.is_integer(kind) or pa.types.is_floating(kind)]


def column_values(files: list[Path], column: str) -> np.ndarray:
    """Non-null values of ``column`` across Parquet files, as float64."""
    parts = []
    for path in files:
        table = pq.read_table(path, columns=[column])
        values = table[column].drop_null().to_numpy(zero_copy_only=False)
        parts.append(np.asarray(values, dtype=np.float64))
    return np.concatenate(parts) if parts else np.empty(0)


def write_histogram(signal: str, kept: np.ndarray, dropped: np.ndarray, bins: int,
                    path: Path, edges: list[float] | None = None) -> bool:
    """One PNG per signal (``bins`` from the data's range unless ``edges`` are given);
    False when no document has the signal."""
    if kept.size == 0 and dropped.size == 0:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if edges is None:
        both = np.concatenate([kept, dropped])
        low, high = float(both.min()), float(both.max())
        edges = np.linspace(low, high if high > low else low + 1.0, bins + 1).tolist()
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    ax.hist([kept, dropped], bins=edges, stacked=True, label=["kept", "dropped"],
            color=["#3b7dd8", "#d8643b"])
    ax.set_title(signal)
    ax.set_xlabel(signal)
    ax.set_ylabel("documents")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return True
