"""A rule-based page category tagger, so LLM page scores can be gated per category.

Seed-Coder found that an LLM rater favours e-commerce and documentation pages (their tidy,
standard formatting) and under-rates forums and Q&A despite useful content, and fixed it with
per-category thresholds (seed-coder.md §3; taxonomy and numbers unpublished). These rules are
codekiln's: URL patterns first (cheap and the strongest signal), then page-structure hints
(class/id/itemprop words seen by the extractor), then a few text cues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

CATEGORIES: tuple[str, ...] = ("documentation", "qa-forum", "blog-tutorial", "e-commerce",
                               "other")

_URL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("qa-forum", re.compile(
        r"stackoverflow\.com|stackexchange\.com|superuser\.com|serverfault\.com|askubuntu\.com"
        r"|/questions?/|forum|discourse|/t/[^/]+/\d+|/threads?/|reddit\.com|/community/"
        r"|groups\.google|/discussions?/|/issues/\d+")),
    ("e-commerce", re.compile(
        r"amazon\.|ebay\.|etsy\.com|aliexpress|walmart\.|/shop/|/store/|/products?/|/cart"
        r"|/checkout|/item/|shopify|/buy/")),
    ("documentation", re.compile(
        r"readthedocs|/docs?/|/documentation/|/api/|/reference/|/manual/|/man\d?/|/library/"
        r"|/howto/|/guide/|docs\.|developer\.|/html/|/javadoc|/godoc|pkg\.go\.dev|docs\.rs"
        r"|cppreference|devdocs|/spec/")),
    ("blog-tutorial", re.compile(
        r"blog|medium\.com|dev\.to|hashnode|substack|/posts?/|/tutorials?/|/articles?/"
        r"|/\d{4}/\d{2}/|wordpress|/learn/|geeksforgeeks|w3schools|tutorialspoint")),
)

_HINT_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("e-commerce", frozenset({"price", "cart", "checkout", "sku", "product"})),
    ("qa-forum", frozenset({"question", "answer", "vote", "forum", "reply", "thread"})),
    ("documentation", frozenset({"api", "reference", "docs", "toc"})),
    ("blog-tutorial", frozenset({"blog", "author", "post"})),
)

_TEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("e-commerce", re.compile(r"add to (?:cart|basket)|in stock|free shipping|buy now"
                              r"|\$\d+\.\d\d|€\s?\d+[.,]\d\d", re.IGNORECASE)),
    ("qa-forum", re.compile(r"\basked\b.*\bago\b|\baccepted answer\b|\bupvote|\breplies\b"
                            r"|\bposted by\b.*\breply\b", re.IGNORECASE)),
    ("documentation", re.compile(r"\bparameters?\b.*\breturns?\b|\bapi reference\b"
                                 r"|\btable of contents\b", re.IGNORECASE | re.DOTALL)),
    ("blog-tutorial", re.compile(r"\bin this (?:tutorial|post|article)\b|\bposted on\b"
                                 r"|\bmin read\b|\bleave a comment\b", re.IGNORECASE)),
)

#: Hints must be this many of a category's words before they decide (one stray class
#: name like "post" is common on any page).
_MIN_HINTS = 2


def tag_category(location: str, text: str, hints: Sequence[str] = ()) -> str:
    """One of :data:`CATEGORIES` for a page, from its URL (or path), hints and text."""
    lowered = location.lower()
    for category, pattern in _URL_RULES:
        if pattern.search(lowered):
            return category
    present = set(hints)
    best = max(_HINT_RULES, key=lambda rule: len(rule[1] & present))
    if len(best[1] & present) >= _MIN_HINTS:
        return best[0]
    head = text[:4000]
    for category, pattern in _TEXT_RULES:
        if pattern.search(head):
            return category
    return "other"
