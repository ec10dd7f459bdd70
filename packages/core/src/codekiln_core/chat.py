"""The Seed-Coder chat format (seed-coder.md §7), in core: the tokenizer command writes it,
post-training formats data with it and the server applies it, so all three format prompts
identically.

Each turn is ``BOS{role}\\n{content.strip()}EOS``; the generation prompt is ``BOS assistant\\n``.
The Instruct template inserts the default system prompt when a conversation has none; the
Reasoning template does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekiln_core.special_tokens import BOS, EOS

SEED_CODER_SYSTEM_PROMPT = (
    "You are an AI programming assistant, utilizing the Seed-Coder model, developed by "
    "ByteDance Seed, and you only answer questions related to computer science. For "
    "politically sensitive questions, security and privacy issues, and other non-computer "
    "science questions, you will refuse to answer."
)


def _template(default_system: str | None) -> str:
    turn = (BOS + "{{ message['role'] }}\n{{ message['content'] | trim }}" + EOS)
    system = ""
    if default_system is not None:
        system = ("{%- if messages[0]['role'] != 'system' %}" + BOS + "system\n"
                  + default_system + EOS + "{%- endif %}")
    return (system + "{%- for message in messages %}" + turn + "{%- endfor %}"
            "{%- if add_generation_prompt %}" + BOS + "assistant\n{% endif %}")


#: Jinja chat template of Seed-Coder-8B-Instruct (default system prompt inserted).
SEED_CODER_CHAT_TEMPLATE = _template(SEED_CODER_SYSTEM_PROMPT)
#: Jinja chat template of Seed-Coder-8B-Reasoning (same turns, no default system prompt).
SEED_CODER_REASONING_CHAT_TEMPLATE = _template(None)

#: Seed-Coder-Instruct's default decoding (seed-coder.md §10, the README's vLLM example).
SEED_CODER_SAMPLING_DEFAULTS: dict[str, float | int] = {
    "temperature": 0.6, "top_p": 0.8, "repetition_penalty": 1.05, "max_tokens": 512,
}

#: The templates by the name ``--chat-template`` and recipes use.
CHAT_TEMPLATES: dict[str, str] = {
    "seed-coder": SEED_CODER_CHAT_TEMPLATE,
    "reasoning": SEED_CODER_REASONING_CHAT_TEMPLATE,
}


def chat_template(name: str) -> str:
    """The template called ``name``, or a one-line error listing the names."""
    from codekiln_core.errors import ConfigError

    if name not in CHAT_TEMPLATES:
        raise ConfigError(f"chat template {name!r} is unknown; use one of "
                          f"{', '.join(CHAT_TEMPLATES)}")
    return CHAT_TEMPLATES[name]


def write_chat_template(tokenizer_dir: Path, name: str = "seed-coder") -> Path:
    """Store template ``name`` as ``chat_template`` in the directory's tokenizer_config.json.

    transformers' ``apply_chat_template``, vLLM and our server all read that key, so writing
    it once into the tokenizer directory makes every consumer format prompts identically.
    The file is rewritten atomically; every other key is kept.
    """
    import json

    from codekiln_core.errors import ConfigError
    from codekiln_core.fsio import atomic_write_json

    template = chat_template(name)
    path = Path(tokenizer_dir) / "tokenizer_config.json"
    config: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc}); fix or remove it") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} holds {type(loaded).__name__}, not a JSON object")
        config = loaded
    elif not Path(tokenizer_dir).is_dir():
        raise ConfigError(f"tokenizer directory {tokenizer_dir} does not exist")
    config["chat_template"] = template
    atomic_write_json(path, config)
    return path
