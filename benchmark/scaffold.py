"""`plasticbench new-method NAME`: the files a new method needs, and nothing else.

A method's config is the `Config` dataclass inside its own file (the Hydra `method` group is
generated from it, benchmark/config.py), so the skeleton is one method file and one test.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

METHOD = '''"""{title}: one line on what it does and the paper it comes from (cite section/equation for constants)."""
from __future__ import annotations

from dataclasses import dataclass

from plasticbench import Method, register_method


@register_method("{name}", settings={{"online", "continual"}}, learners={{"sac", "td3"}})
class {cls}(Method):
    @dataclass(frozen=True)
    class Config:
        strength: float = 0.0  # replace with the method's hyperparameters (source in a comment)

    def loss(self, ctx, role, batch):
        """Extra loss term: return the SUM over seeds of each seed's term, or None."""
        return None
'''

TEST = '''"""{title}: the method's math on a tiny learner, and one end-to-end smoke run."""
from plasticbench.benchmark.registry import get_method
from plasticbench.benchmark.runner import run


def test_{name}_is_registered():
    assert get_method("{name}").name == "{name}"


def test_{name}_runs_end_to_end(tiny_config):
    record = run(tiny_config("method={name}", "suite=hopper", "seeds=1"), progress=False)
    assert record["method"] == "{name}"
'''


def new_method(name: str, root: Path) -> list[Path]:
    """Write methods/NAME.py and tests/methods/test_NAME.py under `root`; never overwrite."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValueError(f"method name {name!r} must be a lowercase Python identifier (letters, digits, _)")
    cls = "".join(part.capitalize() for part in name.split("_"))
    files = {root / "methods" / f"{name}.py": METHOD, root / "tests" / "methods" / f"test_{name}.py": TEST}
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise ValueError(f"refusing to overwrite {existing}")
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name, cls=cls, title=cls))
    return list(files)
