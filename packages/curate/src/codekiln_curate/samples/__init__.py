"""Training samples built from whole repositories: commit samples and repo-level strings.

See docs/samples.md for the serialization formats.
"""
