"""Chat data: conversations as ``messages`` rows, the Seed-Coder template, decontamination."""
