"""One generation layer for every sampler (eval, DPO pairs, GRPO rollouts, teacher labels,
instruction synthesis): requests in, samples out, engines from the registry."""

from codekiln_core.generation.spec import GeneratorSpec, engine_name, open_generator
from codekiln_core.generation.types import (
    FinishReason,
    GenerationRequest,
    Generator,
    Messages,
    Sample,
    SamplingParams,
    prompt_seed,
    sample_seed,
)

__all__ = ["FinishReason", "GenerationRequest", "Generator", "GeneratorSpec", "Messages",
           "Sample", "SamplingParams", "engine_name", "open_generator", "prompt_seed",
           "sample_seed"]
