"""What every generator shares: sampling settings, the prompt shape, and the protocol."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings; defaults are Seed-Coder's published ones (seed-coder.md §10)."""

    temperature: float = 0.6
    top_p: float = 0.8
    repetition_penalty: float = 1.05
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["stop"] = list(self.stop)
        return out


@dataclass(frozen=True)
class Prompt:
    """A completion prompt (``text``), a fill-in-the-middle prompt (``text`` is the code
    before the hole, ``suffix`` the code after it) or a chat conversation (``messages``)."""

    task_id: str
    text: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    suffix: str | None = None

    @property
    def is_chat(self) -> bool:
        return self.text is None

    @property
    def is_fim(self) -> bool:
        return self.suffix is not None


class Generator(Protocol):
    """Produces n samples for one prompt; ``concurrency`` prompts may run at once.
    ``fim`` says how FIM prompts are laid out (recorded in the run's summary)."""

    model_name: str
    concurrency: int
    fim: dict[str, Any]

    def generate(self, prompt: Prompt, n: int, params: SamplingParams) -> list[str]: ...

    def close(self) -> None: ...
