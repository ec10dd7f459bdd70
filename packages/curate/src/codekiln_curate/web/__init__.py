"""Code-related web data (Seed-Coder spec §3): HTML -> text with code kept, a fastText recall
classifier, a category tagger and LLM page ratings gated by per-category thresholds.

See docs/web.md.
"""
