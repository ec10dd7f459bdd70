"""The OpenAI-compatible HTTP API: schemas, errors, SSE framing and routes."""
