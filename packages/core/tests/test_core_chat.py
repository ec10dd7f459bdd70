"""The chat template renders the Seed-Coder turn format, with jinja2 as transformers uses it."""

from __future__ import annotations

import jinja2

from codekiln_core.chat import (
    SEED_CODER_CHAT_TEMPLATE,
    SEED_CODER_REASONING_CHAT_TEMPLATE,
    SEED_CODER_SYSTEM_PROMPT,
)
from codekiln_core.special_tokens import BOS, EOS


def render(template: str, messages: list[dict[str, str]], gen: bool) -> str:
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=gen)


def test_default_system_prompt_inserted() -> None:
    text = render(SEED_CODER_CHAT_TEMPLATE, [{"role": "user", "content": " hi \n"}], True)
    assert text == (f"{BOS}system\n{SEED_CODER_SYSTEM_PROMPT}{EOS}{BOS}user\nhi{EOS}"
                    f"{BOS}assistant\n")


def test_given_system_prompt_kept_and_reasoning_has_none() -> None:
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a"}]
    assert render(SEED_CODER_CHAT_TEMPLATE, msgs, False) == (
        f"{BOS}system\nS{EOS}{BOS}user\nu{EOS}{BOS}assistant\na{EOS}")
    assert render(SEED_CODER_REASONING_CHAT_TEMPLATE, msgs[1:], False) == (
        f"{BOS}user\nu{EOS}{BOS}assistant\na{EOS}")
