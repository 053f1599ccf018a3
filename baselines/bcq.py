"""Batch-Constrained deep Q-learning, continuous (Fujimoto, Meger & Precup 2019), over S seeds at once.

Offline only: a generative model (a conditional VAE) proposes actions seen in the data, a
perturbation actor moves each by at most phi, and twin critics pick the best proposal. The update
reads as the reference code's `train` (scenarios.md §4.3, [BCQ] continuous_BCQ/BCQ.py): VAE step,
critic step on the lambda-soft clipped double-Q target maximized over 10 decoded actions per next
state, actor step on Q1 of the perturbed decoded action, Polyak averaging of actor and critic.
Every draw (VAE noise, decoder latents) comes from the seed's own stream; evaluation draws from a
stream of its own so that evaluating never changes training.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from plasticbench.baselines.learner import Learner, LearnerConfig, seed_means
from plasticbench.baselines.replay import Batch
from plasticbench.baselines.seed_rng import SeedRNG

LOG_STD_MIN, LOG_STD_MAX = -4.0, 15.0  # the VAE's log sigma clamp ([BCQ] BCQ.py VAE.forward)
LATENT_CLIP = 0.5  # decoding without z draws z ~ N(0, 1) clipped to +-0.5 ([BCQ] VAE.decode)


@dataclass(frozen=True)
class BCQConfig(LearnerConfig):
    """scenarios.md §4.3: actor and critics 400-300, VAE 750-750 with latent 2|A|, Adam 1e-3 everywhere,
    batch 100, gamma 0.99, tau 0.005, lambda 0.75, phi 0.05, 10 target samples, 100 acting samples."""

    hidden: tuple[int, ...] = (400, 300)
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    vae_lr: float = 1e-3
    vae_hidden: tuple[int, ...] = (750, 750)
    batch_size: int = 100
    phi: float = 0.05
    lmbda: float = 0.75
    target_samples: int = 10
    action_samples: int = 100


def perturb(actor: nn.Module, obs: torch.Tensor, action: torch.Tensor, phi: float) -> torch.Tensor:
    """a + phi * tanh(xi(s, a)), clipped to the action box [-1, 1]: never more than phi from `action`."""
    return (action + phi * torch.tanh(actor(torch.cat([obs, action], dim=-1)))).clamp(-1.0, 1.0)


def soft_clipped_double_q(q1: torch.Tensor, q2: torch.Tensor, lmbda: float) -> torch.Tensor:
    """lambda * min + (1 - lambda) * max (BCQ §4, Eq. 13)."""
    return lmbda * torch.min(q1, q2) + (1.0 - lmbda) * torch.max(q1, q2)


class BCQ(Learner):
    name = "bcq"
    Config = BCQConfig
    offline = True
    target_roles = {"critic": "critic_target", "actor": "actor_target"}

    @property
    def latent_dim(self) -> int:
        return 2 * self.act_dim

    def build_networks(self) -> dict[str, nn.Module]:
        self.eval_rng = SeedRNG(self.seeds, self.device, stream=2)
        obs, act, vae = self.obs_dim, self.act_dim, self.config.vae_hidden
        return {"actor": self.network("actor", obs + act, act), "critic": self.critic(),
                "vae_encoder": self.network("vae_encoder", obs + act, 2 * self.latent_dim, vae),
                "vae_decoder": self.network("vae_decoder", obs + self.latent_dim, act, vae)}

    def optimizer_groups(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        vae = [*self.networks["vae_encoder"].parameters(), *self.networks["vae_decoder"].parameters()]
        return {**super().optimizer_groups(), "vae": (vae, self.config.vae_lr)}

    def role_inputs(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {**super().role_inputs(batch), "actor": torch.cat([batch.obs, batch.action], dim=-1)}

    def encode(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction, mean, std) of the VAE on (s, a) [S, B, ...]."""
        mean, log_std = self.networks["vae_encoder"](torch.cat([obs, action], dim=-1)).chunk(2, dim=-1)
        std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).exp()
        z = mean + std * self.rng.normal(obs.shape[1], self.latent_dim)
        return self.decode(obs, self.rng, z), mean, std

    def decode(self, obs: torch.Tensor, rng: SeedRNG, z: torch.Tensor | None = None) -> torch.Tensor:
        """Actions [S, B, act] the data would take in obs [S, B, obs]; z None draws clipped latents."""
        if z is None:
            z = rng.normal(obs.shape[1], self.latent_dim).clamp(-LATENT_CLIP, LATENT_CLIP)
        return torch.tanh(self.networks["vae_decoder"](torch.cat([obs, z], dim=-1)))

    def policy_action(self, obs: torch.Tensor, explore: bool, head: int) -> torch.Tensor:
        """The best of `action_samples` perturbed proposals by Q1 ([BCQ] select_action); BCQ never explores."""
        n = self.config.action_samples
        states = obs.repeat_interleave(n, dim=0).view(obs.shape[0], n, -1)  # [S, n, obs]
        actions = perturb(self.networks["actor"], states, self.decode(states, self.eval_rng), self.config.phi)
        q1 = self.networks["critic"].q1(torch.cat([states, actions], dim=-1))  # [S, n, 1]
        best = q1.argmax(dim=1, keepdim=True).expand(-1, 1, self.act_dim)
        return actions.gather(1, best)[:, 0]

    def learn(self, batch: Batch) -> None:
        cfg = self.config
        recon, mean, std = self.encode(batch.obs, batch.action)
        kl = -0.5 * seed_means(1 + torch.log(std.pow(2)) - mean.pow(2) - std.pow(2))
        self.step_optimizer("vae", seed_means((recon - batch.action) ** 2) + 0.5 * kl, batch)

        with torch.no_grad():
            S, B, n = batch.obs.shape[0], batch.obs.shape[1], cfg.target_samples
            next_obs = batch.next_obs.repeat_interleave(n, dim=1)  # [S, B * n, obs]
            next_action = perturb(self.networks["actor_target"], next_obs, self.decode(next_obs, self.rng), cfg.phi)
            next_q = soft_clipped_double_q(*self.networks["critic_target"](next_obs, next_action), cfg.lmbda)
            next_q = next_q.view(S, B, n).max(dim=2).values[..., None]
            target = cfg.reward_scale * batch.reward + cfg.gamma * (1 - batch.done) * next_q
        q1, q2 = self.networks["critic"](batch.obs, batch.action)
        self.step_optimizer("critic", seed_means((q1 - target) ** 2) + seed_means((q2 - target) ** 2), batch)

        with torch.no_grad():
            proposals = self.decode(batch.obs, self.rng)
        action = perturb(self.networks["actor"], batch.obs, proposals, cfg.phi)
        self.step_optimizer("actor", -seed_means(self.networks["critic"].q1(torch.cat([batch.obs, action], dim=-1))), batch)
        self.polyak("critic")
        self.polyak("actor")

    def extra_state(self) -> dict:
        return {"eval_rng": self.eval_rng.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        self.eval_rng.load_state_dict(state["eval_rng"])
