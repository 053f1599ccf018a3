"""Watching runs while they train: per-seed scalars to TensorBoard, Weights & Biases or CSV.

`logger=` is not part of a run's identity and never touches training: it only reads what the run
loop already computed (evaluation returns, plasticity snapshots, the learner's last losses), so a
record is the same with any logger. See `run_logger.RunLogger` for the resume rule.
"""
from plasticbench.benchmark.live.run_logger import LOGGERS, RunLogger, parse_loggers

__all__ = ["LOGGERS", "RunLogger", "parse_loggers"]
