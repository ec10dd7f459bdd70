"""A filter that keeps credentials out of training data.

Code models memorise rare strings; a private key or token in the pretraining mix can be
regurgitated verbatim. Patterns are deliberately specific (fixed prefixes and lengths) so
ordinary code is not dropped: precision matters more than catching every exotic format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

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


class NoSecretsFilter:
    """Drop a document when it contains a credential; the reason names the kind found."""

    name: ClassVar[str] = "no-secrets"

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        """``kinds``: subset of :data:`PATTERNS` to look for (default: all of them)."""
        selected = list(PATTERNS) if kinds is None else list(kinds)
        unknown = sorted(set(selected) - set(PATTERNS))
        if unknown:
            raise ValueError(
                f"no-secrets: unknown kinds {unknown}; choose from {sorted(PATTERNS)}"
            )
        self.patterns = {kind: PATTERNS[kind] for kind in selected}

    def filter(self, doc: Mapping[str, Any]) -> bool | tuple[bool, str]:
        content = doc.get("content") or ""
        for kind, pattern in self.patterns.items():
            if pattern.search(content):
                return False, f"secret:{kind}"
        return True
