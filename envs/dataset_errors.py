"""The one error every offline dataset reader raises, so the CLI refuses any bad file the same way (exit 2)."""
from __future__ import annotations

from pathlib import Path


class DatasetError(ValueError):
    """A dataset file that cannot be trained on; the message names the file and the key."""


def check(condition: bool, path: Path | str, key: str, problem: str) -> None:
    """Raise DatasetError `dataset '<path>': key '<key>' <problem>` unless `condition`."""
    if not condition:
        raise DatasetError(f"dataset {str(path)!r}: key {key!r} {problem}")
