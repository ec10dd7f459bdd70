"""Sample generation: OpenAI-compatible endpoints and local Hugging Face model directories."""

from codekiln_eval.generate.base import Generator, Prompt, SamplingParams

__all__ = ["Generator", "Prompt", "SamplingParams"]
