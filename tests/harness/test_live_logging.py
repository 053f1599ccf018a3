"""Live logging (issue #16): what reaches TensorBoard, W&B and CSV equals the record; loggers never
change training; a killed and resumed run logs every step exactly once."""
from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest

from plasticbench.benchmark.live import parse_loggers
from plasticbench.benchmark.runner import run
from tests.resume import killed_and_resumed

SMOKE = ("method=ft1", "learner=sac", "suite=halfcheetah_forgetting", "seeds=2", "scale.steps_per_task=120",
         "scale.eval_every=40", "scale.checkpoint_every=40", "scale.learning_starts=30", "scale.eval_episodes=1",
         "scale.episode_length=40")
RUN_TIME_FIELDS = ("wall_time_s",)


def _eval_curves(record: dict, task_names: list[str]) -> dict[tuple[int, str], list[float]]:
    """(step, "eval/<task>") -> [S] from the record's curves: what every logger must show."""
    curves = {}
    for step, returns in zip(record["curves"]["steps"], record["curves"]["returns"]):
        for name, per_seed in zip(task_names, returns):
            if per_seed is not None:
                curves[(step, f"eval/{name}")] = per_seed
    return curves


def _task_names(config) -> list[str]:
    return [t.name for t in config.scenario.tasks]


def _logged(rows: list[tuple[int, str, float]], prefix: str = "eval/") -> dict[tuple[int, str], float]:
    return {(step, tag): value for step, tag, value in rows if tag.startswith(prefix) and tag != "eval/current_task"}


def _csv_rows(folder: Path) -> list[tuple[int, str, float]]:
    with (folder / "scalars.csv").open() as handle:
        return [(int(r["step"]), r["tag"], float(r["value"])) for r in csv.DictReader(handle)]


def _tensorboard_rows(folder: Path) -> list[tuple[int, str, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return [(e.step, tag, e.value) for tag in events.Tags()["scalars"] for e in events.Scalars(tag)]


def _wandb_rows(folder: Path) -> list[tuple[int, str, float]]:
    """History rows of the offline run file (a LevelDB-style log of protobuf records)."""
    from wandb.proto import wandb_internal_pb2

    rows = []
    for path in folder.glob("wandb/offline-run-*/run-*.wandb"):
        data, pos, chunk = path.read_bytes(), 7, b""  # 7-byte ":W&B" header
        while pos + 7 <= len(data):
            if 32768 - pos % 32768 < 7:  # block trailer
                pos += 32768 - pos % 32768
                continue
            _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
            if length == 0 and kind == 0:
                break
            chunk, pos = chunk + data[pos + 7:pos + 7 + length], pos + 7 + length
            if kind in (1, 4):  # a full record, or the last piece of one
                record = wandb_internal_pb2.Record()
                record.ParseFromString(chunk)
                chunk = b""
                if record.WhichOneof("record_type") == "history":
                    items = {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item}
                    rows += [(items["_step"], k, v) for k, v in items.items() if not k.startswith("_")]
    return rows


def _assert_matches_record(rows_of_seed, record, names):
    expected = _eval_curves(record, names)
    for seed in range(2):
        got = _logged(rows_of_seed(seed))
        assert set(got) == set(expected)
        assert all(got[k] == pytest.approx(v[seed], rel=1e-6) for k, v in expected.items())


def test_tensorboard_and_csv_scalars_equal_the_record_and_loggers_do_not_change_it(tiny_config, tmp_path):
    pytest.importorskip("tensorboard")
    logged_config = tiny_config(*SMOKE, "logger=[tensorboard,csv]", results_dir=tmp_path / "logged")
    logged = run(logged_config, progress=False)
    plain = run(tiny_config(*SMOKE, results_dir=tmp_path / "plain"), progress=False)
    assert {k: v for k, v in logged.items() if k not in RUN_TIME_FIELDS} == \
        {k: v for k, v in plain.items() if k not in RUN_TIME_FIELDS}
    logs = tmp_path / "logged" / "runs" / logged["run_id"] / "logs"
    names = _task_names(logged_config)
    _assert_matches_record(lambda s: _tensorboard_rows(logs / "tensorboard" / f"seed_{s}"), logged, names)
    _assert_matches_record(lambda s: _csv_rows(logs / "csv" / f"seed_{s}"), logged, names)
    tags = {tag for _, tag, _ in _csv_rows(logs / "csv" / "seed_0")}
    assert {"train/critic_loss", "train/actor_loss", "train/temperature", "perf/env_steps_per_s"} <= tags
    assert any(t.startswith("plasticity/") for t in tags)


def test_structural_events_reach_the_live_log_as_running_totals(tiny_config, tmp_path):
    """A method with events (Reset) logs `events/<kind>` per seed at every evaluation; the last value equals
    the record's count over all tasks, and the logged totals never decrease."""
    record = run(tiny_config(*[a for a in SMOKE if not a.startswith("method=")], "method=reset", "logger=csv"),
                 progress=False)
    rows = _csv_rows(tmp_path / "runs" / record["run_id"] / "logs" / "csv" / "seed_0")
    logged = [v for _, tag, v in sorted(rows) if tag == "events/reset"]
    assert logged == sorted(logged) and len(logged) == len(record["curves"]["steps"])
    assert logged[-1] == sum(row[0] for row in record["events"]["by_kind"]["reset"]) > 0


def test_wandb_offline_run_holds_the_same_scalars(tiny_config, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = tiny_config(*SMOKE, "logger=wandb")
    record = run(config, progress=False)
    logs = tmp_path / "runs" / record["run_id"] / "logs" / "wandb"
    _assert_matches_record(lambda s: _wandb_rows(logs / f"seed_{s}"), record, _task_names(config))


def test_a_killed_and_resumed_run_logs_each_step_once(tiny_config, tmp_path, monkeypatch):
    resumed, straight = killed_and_resumed(tiny_config, [*SMOKE, "logger=csv"], tmp_path, monkeypatch, die_at=2)
    for seed in range(2):
        rows = {name: [(s, t, v) for s, t, v in _csv_rows(tmp_path / name / "runs" / resumed["run_id"] / "logs" / "csv" / f"seed_{seed}")
                       if not t.startswith("perf/")] for name in ("resumed", "straight")}
        keys = [(s, t) for s, t, _ in rows["resumed"]]
        assert len(keys) == len(set(keys)), "a step was logged twice"
        assert sorted(rows["resumed"]) == sorted(rows["straight"])


def test_logger_names_and_missing_packages_fail_before_work(monkeypatch):
    assert parse_loggers("none") == () and parse_loggers(["csv", "none"]) == ("csv",)
    assert parse_loggers("[csv,tensorboard]") == ("csv", "tensorboard")
    with pytest.raises(ValueError, match="unknown \\['tb'\\]; allowed: none, tensorboard, wandb, csv"):
        parse_loggers("tb")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent")
    monkeypatch.setenv("HOME", "/nonexistent")
    if pytest.importorskip("importlib.util").find_spec("wandb"):
        with pytest.raises(ValueError, match="WANDB_MODE=offline"):
            parse_loggers("wandb")
