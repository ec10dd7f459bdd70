"""Engines behind the API: transformers (in-process, batched), vllm, openai-http."""
