"""Reset, ReDo and LayerNorm on the offline learners; the other methods are refused before any work."""
import pytest
import torch

from plasticbench.baselines.bcq import BCQ, BCQConfig
from plasticbench.baselines.iql import IQL, IQLConfig
from plasticbench.benchmark.cli import main
from plasticbench.benchmark.runner import run
from plasticbench.methods.redo import ReDo
from plasticbench.methods.reset import Reset
from tests.baselines.test_offline_learners import ACT, OBS, dataset
from tests.harness.test_offline_runs import LEARNER_TINY, OFFLINE_TINY, datasets  # noqa: F401 (fixture)


@pytest.mark.parametrize("method,learner", [("reset method.period=15", "iql"), ("redo method.period=10", "bcq"),
                                            ("layernorm", "bcq"), ("layernorm", "iql")])
def test_offline_run_of_a_plasticity_method(datasets, tiny_config, method, learner):  # noqa: F811
    name, *options = method.split()
    record = run(tiny_config(f"method={name}", *options, *LEARNER_TINY[learner], *OFFLINE_TINY), progress=False)
    assert record["method"] == name and record["normalization"]["kind"] == "d4rl" and len(record["scores"]) == 2


def test_reset_on_an_offline_learner_counts_gradient_steps():
    method = Reset(Reset.Config(period=3))
    learner = IQL(IQLConfig(hidden=(8,), batch_size=8), OBS, ACT, [0], method)
    learner.load_dataset(dataset(), 10)
    for _ in range(3):
        learner.update()
    trained = learner.networks["actor"].layers[0].weight.detach().clone()
    learner.update()  # the reset comes just before this update
    assert method.resets == 1 and method.last_reset_step == 3
    assert not torch.allclose(learner.networks["actor"].layers[0].weight, trained, atol=1e-2)


def test_redo_scores_bcqs_actor_on_state_action_inputs():
    method = ReDo(ReDo.Config(period=2, batch_size=8, tau=10.0))  # tau 10: every neuron counts as dormant
    learner = BCQ(BCQConfig(hidden=(8,), vae_hidden=(8,), batch_size=8), OBS, ACT, [0, 1], method)
    learner.load_dataset(dataset(), 10)
    for _ in range(2):
        learner.update()
    assert method.recycled["actor"] == [8, 8] and method.recycled["critic"] == [16, 16]


@pytest.mark.parametrize("method", ["ne", "ewc", "pi", "packnet"])
def test_methods_without_offline_support_are_refused(datasets, tmp_path, capsys, method):  # noqa: F811
    assert main(["run", f"method={method}", "learner=iql", "suite=hopper_random", f"results_dir={tmp_path / 'r'}"]) == 2
    err = capsys.readouterr().err
    assert f"method {method!r} does not support" in err and not (tmp_path / "r").exists()
