"""Make an optional package look uninstalled for one test, to check the harness's one-line install errors."""
from __future__ import annotations

import builtins


def hide_package(monkeypatch, package: str) -> None:
    """Any import of `package` or its submodules raises ImportError until the test ends (monkeypatch undoes it)."""
    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name == package or name.startswith(package + "."):
            raise ImportError(f"No module named '{package}'", name=package)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
