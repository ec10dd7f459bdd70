"""A filter that keeps credentials out of training data.

Code models memorise rare strings; a private key or token in the pretraining mix can be
regurgitated verbatim. Patterns are deliberately specific (fixed prefixes and lengths) so
ordinary code is not dropped: precision matters more than catching every exotic format.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from codekiln_core import Document, FilterResult, StageOptions

#: kind -> pattern. Each matches a credential format with a fixed, documented prefix.
PATTERNS: dict[str, re.Pattern[str]] = {
    "private_key": re.compile(
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
        r"\s*[A-Za-z0-9+/=\r\n:-]{64,}"
    ),
    "aws_access_key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "github_token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b"),
    "slack_token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,72}\b"),
    "google_api_key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "stripe_live_key": re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{24,99}\b"),
}


SecretKind = Literal[
    "private_key", "aws_access_key", "github_token", "slack_token", "google_api_key",
    "stripe_live_key",
]


class NoSecretsOptions(StageOptions):
    """Options of ``no-secrets`` in a recipe; validated before any work, like the recipe."""

    kinds: list[SecretKind] | None = Field(
        default=None, description="credential kinds to look for (default: every kind in PATTERNS)"
    )


class NoSecretsFilter:
    """Drop a document when it contains a credential; the reason names the kind found."""

    name: ClassVar[str] = "no-secrets"
    options_model: ClassVar[type[StageOptions]] = NoSecretsOptions

    def __init__(self, options: NoSecretsOptions | None = None) -> None:
        kinds = (options or NoSecretsOptions()).kinds
        selected = list(PATTERNS) if kinds is None else list(kinds)
        self.patterns = {kind: PATTERNS[kind] for kind in selected}

    def filter(self, doc: Document) -> FilterResult:
        content = doc.get("content") or ""
        for kind, pattern in self.patterns.items():
            if pattern.search(content):
                return False, f"secret:{kind}"
        return True
