"""Teacher labeling: ask a chat model to rate code quality 0-10 with the Seed-Coder rubric.

The labels (``labels.parquet``) train the student quality scorer; see docs/labeling.md.
"""
