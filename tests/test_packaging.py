"""One import namespace (issue #9): the distribution installs `plasticbench` and nothing else at the top.

The wheel is built from this checkout and inspected; the installed views (the editable install this
test runs under, and the built wheel put on PYTHONPATH) are imported from a folder outside the
checkout, so the checkout's own folders cannot answer for the generic names. The README's example
method is installed as a separate distribution with an entry point and run on the smoke grid.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERIC = ("benchmark", "methods", "baselines", "envs")
PROBE = ("import importlib, plasticbench, plasticbench.methods\n"
         "fails = []\n"
         "for name in {generic!r}:\n"
         "    try:\n"
         "        importlib.import_module(name)\n"
         "    except ImportError:\n"
         "        fails.append(name)\n"
         "print(plasticbench.__file__, plasticbench.Method.__module__, ','.join(fails))\n")


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], cwd=cwd,
                   check=True, capture_output=True)


def _probe(cwd: Path, pythonpath: Path | None = None) -> tuple[str, str, set[str]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run([sys.executable, "-c", PROBE.format(generic=GENERIC)], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[0], out[1], set(out[2].split(",")) if len(out) > 2 else set()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources, so no stale build/ folder of the checkout can slip in."""
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "__init__.py"):
        shutil.copy(ROOT / name, source / name)
    for folder in GENERIC:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    _pip("wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(out), cwd=out)
    return next(out.glob("plasticbench-*.whl"))


def test_wheel_holds_only_the_plasticbench_namespace_and_every_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"plasticbench"}
    packages = {str(p.parent.relative_to(ROOT)) for folder in GENERIC for p in (ROOT / folder).rglob("__init__.py")}
    assert {f"plasticbench/{p}/__init__.py" for p in packages} <= set(names), "a package is missing from pyproject.toml"
    assert "plasticbench/benchmark/conf/config.yaml" in names
    assert not [n for n in names if n.startswith(("plasticbench/tests", "plasticbench/tools", "plasticbench/results"))]


def test_generic_names_do_not_import_from_the_editable_install(tmp_path):
    where, method_module, fails = _probe(tmp_path)
    assert Path(where) == ROOT / "__init__.py" and method_module == "plasticbench.methods.base"
    assert fails == set(GENERIC)


def test_generic_names_do_not_import_from_the_built_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    where, _, fails = _probe(tmp_path, pythonpath=site)
    assert Path(where) == site / "plasticbench" / "__init__.py"
    assert fails == set(GENERIC)


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n# methods/l2_init.py\n(.*?)```", text, re.S)
    assert block, "README.md lost its example method"
    return block.group(1)


def test_readme_example_as_an_external_package_runs_on_the_smoke_grid(tmp_path):
    """The entry-point group `plasticbench.methods` brings in a method from another distribution."""
    project = tmp_path / "l2_init_pkg"
    (project / "l2_init_pkg").mkdir(parents=True)
    (project / "l2_init_pkg" / "__init__.py").write_text("")
    (project / "l2_init_pkg" / "l2_init.py").write_text(_readme_example())
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "l2-init-pkg"\nversion = "0.0.1"\n'
        '[project.entry-points."plasticbench.methods"]\nl2_init = "l2_init_pkg.l2_init"\n')
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--no-build-isolation", "--target", str(site), str(project), cwd=tmp_path)
    results = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(site), "MUJOCO_GL": "disable"}
    command = [sys.executable, "-m", "plasticbench.benchmark.cli", "suite", "scale=smoke", "suites=hopper",
               "methods=l2_init", "learners=sac", "learner.hidden=[16,16]", "learner.batch_size=16", "seeds=1",
               f"results_dir={results}"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    records = {(r := json.loads(p.read_text()))["method"]: r for p in results.glob("runs/*/record.json")}
    assert sorted(records) == ["l2_init", "random"]  # the suite measures R_random first
    assert records["l2_init"]["scores"][0] is not None and records["l2_init"]["normalization"]["kind"] == "expert"
