"""Learners ("baselines" in the RL sense) and their shared seed-batched building blocks."""
