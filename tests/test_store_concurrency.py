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
