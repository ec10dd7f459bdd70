"""From curated documents to training tokens: FIM, tokenizer, packed memory-mappable shards.

Submodules import their heavy dependencies (tokenizers, transformers, pyarrow) lazily so the
CLI stays fast to start.
"""
