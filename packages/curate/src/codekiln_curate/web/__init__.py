"""Code-related web data (seed-coder.md §3): HTML -> text with code kept, a fastText recall
classifier, a category tagger and LLM page ratings gated by per-category thresholds.

See docs/web.md.
"""
