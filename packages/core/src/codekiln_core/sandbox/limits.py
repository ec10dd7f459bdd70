"""Resource limits for one sandbox run, validated up front with one-line errors."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from codekiln_core.errors import ConfigError


@dataclass(frozen=True)
class SandboxLimits:
    """Hard limits applied to every run (and, with the compile_* values, every compile step).

    ``cpu_s=None`` derives the CPU-time limit from the wall-clock timeout (rounded up, plus
    one second) so a busy loop is stopped by whichever comes first.
    """

    timeout_s: float = 10.0
    memory_mb: int = 1024
    max_processes: int = 64
    max_file_mb: int = 64
    max_output_kb: int = 256
    cpu_s: float | None = None
    compile_timeout_s: float = 60.0
    compile_memory_mb: int = 4096

    def __post_init__(self) -> None:
        positive = {
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "max_processes": self.max_processes,
            "max_file_mb": self.max_file_mb,
            "max_output_kb": self.max_output_kb,
            "compile_timeout_s": self.compile_timeout_s,
            "compile_memory_mb": self.compile_memory_mb,
        }
        if self.cpu_s is not None:
            positive["cpu_s"] = self.cpu_s
        for key, value in positive.items():
            if not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(
                    f"sandbox limit {key}={value!r} is invalid; use a positive number"
                )
        if self.max_processes < 4:
            raise ConfigError(
                f"sandbox limit max_processes={self.max_processes} is too small to start a "
                "program; use at least 4"
            )

    def cpu_limit_s(self, timeout_s: float) -> int:
        """Whole seconds of CPU time a run may use."""
        if self.cpu_s is not None:
            return max(1, math.ceil(self.cpu_s))
        return math.ceil(timeout_s) + 1

    @property
    def max_output_bytes(self) -> int:
        return self.max_output_kb * 1024

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxLimits:
        return cls(**data)
