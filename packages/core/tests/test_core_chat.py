"""The chat template renders the Seed-Coder turn format, with jinja2 as transformers uses it."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from codekiln_core.chat import (
    SEED_CODER_CHAT_TEMPLATE,
    SEED_CODER_REASONING_CHAT_TEMPLATE,
    SEED_CODER_SYSTEM_PROMPT,
    write_chat_template,
)
from codekiln_core.errors import ConfigError
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


def test_write_chat_template_keeps_other_keys(tmp_path: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": "x"}))
    write_chat_template(tmp_path, "seed-coder")
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config == {"eos_token": "x", "chat_template": SEED_CODER_CHAT_TEMPLATE}
    with pytest.raises(ConfigError, match="use one of seed-coder, reasoning"):
        write_chat_template(tmp_path, "llama")
    with pytest.raises(ConfigError, match="does not exist"):
        write_chat_template(tmp_path / "missing")
