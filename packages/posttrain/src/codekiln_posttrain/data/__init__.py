"""Post-training data: instruction synthesis, SFT-set import, on-policy DPO pairs."""
