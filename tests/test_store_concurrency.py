"""Many processes writing into one results directory at once lose nothing (ARCHITECTURE.md)."""
import json
import multiprocessing

from plasticbench.benchmark.store import RunStore, find_records


def _write_many(results_dir: str, writer: int, count: int) -> None:
    for i in range(count):
        run_id = f"w{writer}_{i:03d}"
        RunStore(results_dir, run_id).write_record({"run_id": run_id, "writer": writer, "payload": list(range(200))})


def test_eight_concurrent_writers_lose_nothing(tmp_path):
    writers, count = 8, 25
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_many, args=(str(tmp_path), w, count)) for w in range(writers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in processes)
    records = find_records(tmp_path)
    assert sorted(r["run_id"] for r in records) == sorted(f"w{w}_{i:03d}" for w in range(writers) for i in range(count))
    assert all(r["payload"] == list(range(200)) for r in records)
    assert not list(tmp_path.glob("runs/*/*.tmp")) and not list(tmp_path.glob("runs/*/.*"))
    assert all(json.loads(p.read_text()) for p in tmp_path.glob("runs/*/record.json"))


def _die_while_writing(results_dir: str, what: str) -> None:
    """Start a write and SIGKILL this process in the middle of it (no cleanup can run)."""
    import os
    import signal

    import torch

    from plasticbench.benchmark import store as store_module
    from plasticbench.benchmark.store import atomic_write

    store = RunStore(results_dir, "r")
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    if what == "record":
        atomic_write(store.record_path, lambda f: (f.write('{"run_id": "r", "payload": [1, 2'), f.flush(), die()))
    elif what == "checkpoint":
        def half_then_die(f):
            torch.save({"step": 3, "payload": torch.zeros(10_000)}, f)
            f.truncate(f.tell() // 2)
            f.flush()
            die()
        atomic_write(store.checkpoint_path, half_then_die, binary=True, previous=store.previous_checkpoint_path)
    else:  # between the two renames of a checkpoint save: the previous one moved, the new one not yet in place
        renames, rename = [], os.replace
        store_module.os.replace = lambda a, b: (renames.append(1), rename(a, b), die() if len(renames) == 1 else None)
        store.save_checkpoint({"step": 3})


def _killed(results_dir, what: str) -> None:
    process = multiprocessing.get_context("spawn").Process(target=_die_while_writing, args=(str(results_dir), what))
    process.start()
    process.join(timeout=120)
    assert process.exitcode == -9


def test_a_writer_killed_mid_write_leaves_the_previous_complete_file(tmp_path):
    from plasticbench.benchmark.reporting.record_loading import load_records

    store = RunStore(tmp_path, "r")
    _killed(tmp_path, "record")  # no record before: none after, and nothing a reader trips on
    assert not store.has_record() and find_records(tmp_path) == [] and load_records(tmp_path) == []
    store.save_checkpoint({"step": 1})
    store.save_checkpoint({"step": 2})
    _killed(tmp_path, "checkpoint")
    assert store.load_checkpoint()["step"] == 2 and store.load_checkpoint(store.previous_checkpoint_path)["step"] == 1
    _killed(tmp_path, "rename")
    assert store.checkpoints() == [store.previous_checkpoint_path]  # the run resumes from it
    assert store.load_checkpoint(store.previous_checkpoint_path)["step"] == 2
    # each write sweeps the temps of killed writers: only the last one's is left, hidden from readers
    assert len(list(store.dir.glob(".checkpoint.pt.*.tmp"))) == 1
    store.write_record({"run_id": "r", "payload": [1, 2]})
    assert find_records(tmp_path) == [{"run_id": "r", "payload": [1, 2]}]
    assert sorted(p.name for p in store.dir.iterdir()) == ["record.json"]
