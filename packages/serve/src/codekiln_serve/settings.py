"""The typed settings of ``codekiln serve``: CLI options become this model, and its field
descriptions are the help text and the error messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from codekiln_core.threads import THREADS_HELP

EngineName = str  # "auto", a built-in name, or any name registered through the hook


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., description="HF model directory, models:/NAME/VERSION, or (for "
                                        "openai-http) the upstream server's URL")
    engine: EngineName = Field("auto", description="auto, transformers, vllm, openai-http or a "
                                                   "plugin's engine name")
    host: str = Field("127.0.0.1", description="address to bind (loopback unless told)")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0: any free port)")
    api_key: str | None = Field(None, description="required Bearer key on every route but "
                                                  "/health (default: $CODEKILN_SERVE_API_KEY)")
    served_model_name: str | None = Field(None, description="model id clients send and see "
                                                            "(default: the directory name)")
    max_queue: int = Field(256, ge=1, description="sequences waiting beyond the running batch; "
                                                  "more get 503, and a request needing more "
                                                  "than this at once gets 400")
    max_batch: int = Field(32, ge=1, description="sequences decoded together per step")
    max_prefill_tokens: int = Field(4096, ge=16, description="prompt tokens prefilled in one "
                                                             "step (more wait a step)")
    fim_layout: Literal["spm", "psm"] | None = Field(
        None, description="FIM order for `suffix`: spm (Seed-Coder) or psm; default: the "
                          "layout the model was trained in (recorded in its config.json by "
                          "codekiln train), else spm")
    fim_context_tokens: int = Field(2048, ge=0, description="repository context (input_extra, "
                                                            "files) a FIM prompt may carry, in "
                                                            "tokens; farthest files go first")
    defaults: Literal["auto", "seed-coder", "none"] = Field(
        "auto", description="chat sampling defaults when a request gives none: seed-coder "
                            "(T=0.6, top_p=0.8, rep 1.05, 512 tokens), none (OpenAI's), or auto "
                            "(seed-coder when the chat template is Seed-Coder's)")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="weights dtype: auto = float32 on CPU, bfloat16 on CUDA")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where the "
                                                                       "transformers engine runs")
    threads: int | None = Field(None, ge=1, description=THREADS_HELP)
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="larger request bodies "
                                                                      "get 413")
    tensor_parallel_size: int = Field(1, ge=1, description="vllm: GPUs per model")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="vllm: share of GPU "
                                                                       "memory")
    upstream_api_key: str | None = Field(None, description="openai-http: key for the upstream "
                                                           "server")
    lineage: bool = Field(True, description="record the serve run (model input) in MLflow")
