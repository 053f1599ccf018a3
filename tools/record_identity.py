"""Dev tool (not installed): the deterministic parts of two smoke records, to compare two checkouts.

    git archive <commit> | tar -x -C /tmp/base/plasticbench          # the other checkout, as a package
    (cd /tmp/base && PYTHONPATH=/tmp/base python /path/to/tools/record_identity.py /tmp/old /tmp/old.json)
    python tools/record_identity.py /tmp/new /tmp/new.json            # this checkout
    cmp /tmp/old.json /tmp/new.json

The cells cover what a replay change can break: Hopper (episodes end by termination and by the
50-step smoke cap) and NE on the 8-task HalfCheetah scenario (task switches, NE's experience
review gathering chosen buffer regions).
"""
import json
import sys

import plasticbench
from plasticbench.benchmark.config import load_run_config
from plasticbench.benchmark.runner import run

CELLS = (["method=ft1", "learner=sac", "suite=hopper", "seeds=2"],
         ["method=ne", "learner=td3", "suite=halfcheetah_forgetting", "seeds=2"])

if __name__ == "__main__":
    results_dir, output = sys.argv[1], sys.argv[2]
    out = {}
    for cell in CELLS:
        config = load_run_config([*cell, "scale=smoke", "learner.hidden=[16,16]", "learner.batch_size=16",
                                  f"results_dir={results_dir}"])
        record = run(config, progress=False)
        out[" ".join(cell)] = {k: record[k] for k in ("run_id", "final_returns", "curves", "plasticity")}
    with open(output, "w") as handle:
        json.dump(out, handle, sort_keys=True)
    print(f"{plasticbench.__file__}: wrote {output}")
