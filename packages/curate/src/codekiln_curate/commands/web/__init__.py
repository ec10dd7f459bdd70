"""``codekiln curate web ...``: code-related web pages (docs/web.md).

extract -> seeds -> train-classifier -> classify -> rate; each step reads the previous
step's output directory (``pages.parquet``).
"""

from codekiln_core.cli.contract import Group

GROUP = Group("curate.web", "Code-related web pages: HTML -> text with code kept, fastText "
              "recall classifier, LLM rating per category.")
