"""`codekiln serve`: one command per module."""
