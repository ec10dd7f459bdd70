"""The Seed-Coder chat format (spec §7), in core: the tokenizer command writes it, post-training
formats data with it and the server applies it, so all three format prompts identically.

Each turn is ``BOS{role}\\n{content.strip()}EOS``; the generation prompt is ``BOS assistant\\n``.
The Instruct template inserts the default system prompt when a conversation has none; the
Reasoning template does not.
"""

from __future__ import annotations

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

#: Seed-Coder-Instruct's default decoding (spec §10, the README's vLLM example).
SEED_CODER_SAMPLING_DEFAULTS: dict[str, float | int] = {
    "temperature": 0.6, "top_p": 0.8, "repetition_penalty": 1.05, "max_tokens": 512,
}
