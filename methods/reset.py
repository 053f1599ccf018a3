"""Reset: periodic re-initialization against the primacy bias (Nikishin et al., ICML 2022; spec reset.md).

Every `period` environment steps (reset.md §3: env steps, not gradient steps) the chosen layers of the
chosen networks are drawn afresh from the harness initializer on each seed's own stream, copied into
their target networks, their Adam state is discarded (m = v = 0 and the step count restarted, as the
reference code re-creates its optimizers) and the SAC temperature goes back to its initial value
together with its optimizer state. The replay buffer is kept. With the defaults this is the SAC
"entire agent" reset of the reference code. In the continual setting every task switch also resets
everything (NE §5.2, reset.md §3 `on_task_start`). The schedule is the same for every seed, so the
event is one vectorized draw for all of them. Offline (BCQ, IQL) the period counts gradient steps, the
unit of the offline budget; IQL's state-independent log sigma is a parameter, not a network, and is kept.

Schedule (methods/schedule.py): T_reset = `period_fraction` x the task budget in env steps, 0.2 by
default, i.e. 200,000 env steps at `scale=paper` (1M per task), reset.md §5's SAC value and its
proposal for NE's Reset-TD3 (4 resets per 1M-step task, the fifth would fall on the last step); the
same 4 resets per task at smoke (every 60 of 300 steps) and short (every 10,000 of 50,000).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.batched import batched_mlps
from plasticbench.benchmark.registry import register_method
from plasticbench.methods.base import Method
from plasticbench.methods.schedule import steps_for


def reset_modules(network: nn.Module, last_layers: int) -> list[nn.Module]:
    """The modules a reset re-draws: the whole network (0), else the last k linear layers of each MLP in it."""
    if last_layers == 0:
        return [network]
    mlps = batched_mlps(network)
    return [layer for mlp in mlps for layer in mlp.layers[-last_layers:]]


@torch.no_grad()
def reset_network(ctx, role: str, last_layers: int) -> list[str]:
    """Re-initialize `role`'s chosen layers, copy them into its target, drop their optimizer state.

    Returns the names of the parameters reset (as in `network.named_parameters()`).
    """
    network = ctx.networks[role]
    modules = reset_modules(network, last_layers)
    for module in modules:
        module.reset_parameters(ctx.rng)
    chosen = {id(p) for module in modules for p in module.parameters()}
    names = [name for name, p in network.named_parameters() if id(p) in chosen]
    target_role = ctx.target_roles.get(role)
    if target_role is not None:
        target = dict(ctx.networks[target_role].named_parameters())
        online = dict(network.named_parameters())
        for name in names:
            target[name].copy_(online[name])
    optimizer = ctx.optimizers.get(role)
    if optimizer is not None:
        for name, p in network.named_parameters():
            if name in names:
                optimizer.state.pop(p, None)  # Adam re-creates zero moments and step 0 lazily
    return names


@register_method("reset", settings={"online", "continual", "offline"}, learners={"sac", "td3", "bcq", "iql", "dqn"})
class Reset(Method):
    """Re-initialize the agent every `period_fraction` of the task's env steps, keeping the replay buffer."""

    event_kinds = ("reset",)

    @dataclass(frozen=True)
    class Config:
        """Defaults: reset.md §5, SAC on DMC proprioceptive ([C] `configs/sac.py`): the entire agent every
        2x10^5 env steps (0.2 of the 1M paper budget), also the proposal for NE's Reset-TD3 whose period was lost.
        """

        period_fraction: float = 0.2  # T_reset / task budget (env steps)
        period: int | None = None  # T_reset in env steps; overrides period_fraction
        roles: tuple[str, ...] = ("actor", "critic")
        last_layers: int = 0  # 0: every layer ("entire agent"); k: the last k linear layers of each MLP
        max_resets: int | None = None  # SPR's `total_resets`; None = no limit
        reset_temperature: bool = True  # reset.md §8: keeping alpha gives a different method
        reset_on_task_start: bool = True  # continual: full reset at every task switch (NE §5.2)

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        if (cfg.period is not None and cfg.period < 1) or not 0.0 < cfg.period_fraction <= 1.0 or cfg.last_layers < 0:
            raise ValueError(f"reset period={cfg.period} must be None or >= 1, period_fraction={cfg.period_fraction} "
                             f"in (0, 1], last_layers={cfg.last_layers} >= 0")
        self.resets, self.last_reset_step = 0, 0

    def period(self, ctx) -> int:
        """T_reset in env steps for the current task (module docstring)."""
        return steps_for(self.config.period, self.config.period_fraction, lambda: ctx.task_budget)

    def due(self, ctx) -> bool:
        """Once per multiple of the period, counted in the current task's steps: env steps online,
        gradient steps offline (an offline run is one task whose budget is in gradient steps)."""
        cfg = self.config
        step = ctx.updates if ctx.offline else ctx.env_steps
        step_in_task = step - (0 if ctx.offline else ctx.task_start_step)
        return (step_in_task > 0 and step_in_task % self.period(ctx) == 0 and step != self.last_reset_step
                and (cfg.max_resets is None or self.resets < cfg.max_resets))

    def reset(self, ctx, last_layers: int) -> None:
        with ctx.structural_event("reset"):
            for role in (r for r in self.config.roles if r in ctx.networks):  # DQN has no actor
                reset_network(ctx, role, last_layers)
            if self.config.reset_temperature:
                ctx.reset_temperature()
                temperature = ctx.optimizers.get("alpha")  # SAC's temperature optimizer; TD3 has none
                if temperature is not None:
                    temperature.state.clear()

    def act(self, ctx, obs, explore):
        """Reset just before the first training step that follows each multiple of `period`.

        Triggering here rather than after the update at that step means a reset only happens when
        training goes on after it: with period 200k and a 1M budget the fifth reset would otherwise
        land on the last step and the final evaluation would meet a fresh agent. Returns None, so
        the learner's own policy acts.
        """
        if explore and self.due(ctx):
            self.reset(ctx, self.config.last_layers)
            self.resets, self.last_reset_step = self.resets + 1, ctx.env_steps
        return None

    def sample(self, ctx, buffer, batch_size):
        """Offline (BCQ, IQL) there are no env steps: the period counts gradient steps, the offline
        budget's unit, and the reset comes just before the update that follows each multiple, as online."""
        if ctx.offline and self.due(ctx):
            self.reset(ctx, self.config.last_layers)
            self.resets, self.last_reset_step = self.resets + 1, ctx.updates
        return None

    def on_task_start(self, ctx, task) -> None:
        if self.config.reset_on_task_start and task.index > 0:
            self.reset(ctx, last_layers=0)

    def state_dict(self) -> dict:
        return {"resets": self.resets, "last_reset_step": self.last_reset_step}

    def load_state_dict(self, state: dict) -> None:
        self.resets, self.last_reset_step = int(state["resets"]), int(state["last_reset_step"])
