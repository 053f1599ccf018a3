"""End to end at scale=smoke: Reset, ReDo and LayerNorm runs finish and their records carry plasticity curves."""
import math

import pytest

from plasticbench.benchmark.runner import run


@pytest.mark.parametrize("method,learner", [("reset method.period=80", "sac"), ("redo method.period=10", "td3"),
                                            ("layernorm", "sac")])
def test_run_records_plasticity_curves(tiny_config, method, learner):
    name, *options = method.split()
    config = tiny_config(f"method={name}", *options, f"learner={learner}", "suite=halfcheetah", "seeds=2",
                         "scale.steps_per_task=120", "scale.eval_every=60")
    record = run(config, progress=False)
    plasticity = record["plasticity"]
    assert plasticity["steps"] == record["curves"]["steps"] == [60, 120]
    for key in ("actor_dormant_ratio_tau0", "critic_dormant_ratio_tau0.1", "critic_srank", "actor_weight_rms",
                "critic_feature_norm", "critic_grad_norm", "dormant_ratio_tau0.1"):
        assert len(plasticity["curves"][key]) == 2 and all(len(values) == 2 for values in plasticity["curves"][key])
    final = record["metrics"]["final_dormant_ratio"]
    assert final == plasticity["curves"]["dormant_ratio_tau0.1"][-1] and all(0.0 <= v <= 1.0 for v in final)
    assert all(v is not None and math.isfinite(v) for v in plasticity["curves"]["critic_grad_norm"][-1])
