"""SAC-N: a freshly initialized actor for every task (continual-baselines.md §6).

As in the Rewire/CSP code, the critic is kept warm across tasks by default (§3 rule 2); set
`reset_critic=true` for a fully fresh learner per task. Earlier actors are stored and answer for
their own tasks exactly as in FT-N, which this class extends. SAC-N is also the reference that
normalizes HalfCheetah scores (scenarios-halfcheetah.md, "Score normalization"). Model size = T.
"""
from __future__ import annotations

from dataclasses import dataclass

from plasticbench.benchmark.registry import register_method
from plasticbench.methods.ft_n import FTN


@register_method("sac_n", settings={"continual"}, learners={"sac", "td3"})
class SACN(FTN):
    @dataclass(frozen=True)
    class Config:
        reset_critic: bool = False

    def on_task_start(self, ctx, task) -> None:
        if task.index > 0:
            ctx.reinitialize(["actor", "critic"] if self.config.reset_critic else ["actor"])
