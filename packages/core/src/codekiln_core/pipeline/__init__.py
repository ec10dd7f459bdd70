"""``codekiln run``: a recipe of codekiln commands, one parent MLflow run, resumable."""
