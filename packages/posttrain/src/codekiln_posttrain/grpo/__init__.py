"""GRPO with DAPO's settings (seed-coder.md §8): a local loop on transformers, or verl at scale."""
