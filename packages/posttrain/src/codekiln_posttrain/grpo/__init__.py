"""GRPO with DAPO's settings (spec §8): a local loop on transformers, or verl at scale."""
