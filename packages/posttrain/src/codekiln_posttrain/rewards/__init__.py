"""Rewards for RL: sandboxed unit tests, format, and adapters for verl/TRL reward functions.

Every reward scores a batch of :class:`Sample` and returns one value per sample: a float,
or ``None`` when the infrastructure could not judge it (a ``sandbox_error``). ``None`` gives
no reward and is counted; it is never turned into a 0, which would punish the model for a
fault of the machine.
"""

from codekiln_posttrain.rewards.base import RewardBatch, RewardFn, Sample, score_batch

__all__ = ["RewardBatch", "RewardFn", "Sample", "score_batch"]
