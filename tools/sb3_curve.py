"""Stable-Baselines3's learning curve with our learner's hyperparameters, for side-by-side checks.

    python -m tools.sb3_curve learner=sac env=HalfCheetah-v5 steps=30000 eval_every=5000 \
        learning_starts=2000 seed=0

prints one line per evaluation (environment steps, mean deterministic return over `episodes`
episodes). Compare it with `plasticbench run method=ft1 learner=sac suite=halfcheetah seeds=1
scale=short scale.steps_per_task=30000 scale.learning_starts=2000 scale.eval_every=5000`: the
same agent (read from our learner's Config by `plasticbench.benchmark.perf`'s SB3 builders), so a learning
curve far below SB3's would be our defect, not SAC's. Not part of the leaderboard.
"""
from __future__ import annotations

import sys
from typing import Sequence

from plasticbench.benchmark.cli import UsageError, split_options


def sb3_curve(learner: str, env: str, steps: int, eval_every: int, learning_starts: int, seed: int,
              episodes: int = 5) -> list[tuple[int, float]]:
    """[(env steps, mean evaluation return)] of SB3's counterpart of `learner`, one seed, CPU."""
    import gymnasium
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    from plasticbench.benchmark.perf import SB3_BUILDERS
    from plasticbench.benchmark.registry import get_learner

    train_env, eval_env = gymnasium.make(env), Monitor(gymnasium.make(env))  # Monitor: SB3 reads true episode returns
    algorithm, kwargs = SB3_BUILDERS[learner](get_learner(learner).Config(), train_env.action_space.shape[0], steps)
    model = algorithm("MlpPolicy", train_env, **{**kwargs, "learning_starts": learning_starts, "seed": seed})
    curve = []
    while model.num_timesteps < steps:
        model.learn(eval_every, reset_num_timesteps=False)
        mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=episodes, deterministic=True)
        curve.append((model.num_timesteps, float(mean)))
        print(f"{model.num_timesteps:>8d} steps  return {mean:10.1f}", flush=True)
    return curve


def main(argv: Sequence[str] | None = None) -> int:
    keys = {"learner", "env", "steps", "eval_every", "learning_starts", "seed", "episodes"}
    try:
        options = split_options(sys.argv[1:] if argv is None else argv, keys)
        numbers = {k: int(options.get(k, default)) for k, default in
                   [("steps", 30000), ("eval_every", 5000), ("learning_starts", 2000), ("seed", 0), ("episodes", 5)]}
    except (UsageError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    sb3_curve(options.get("learner", "sac"), options.get("env", "HalfCheetah-v5"), **numbers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
