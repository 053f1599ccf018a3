"""Structural events (a reset, a recycling step, an injection, a topology update) as the record sees them.

ARCHITECTURE.md, "The method contract": the record counts each seed's events per task, so a method
whose schedule never fired is visible as such instead of being ranked as a method of its own.
A method wraps the code that changes the network in `ctx.structural_event(kind)`; the learner
counts the event for every seed the method says it acted on, and (when the run asks for it) takes
a plasticity snapshot immediately before and after (metrics-plasticity.md §0: "at every structural
event (before and after)").

Snapshots are kept for the first `SNAPSHOT_FIRST` events of each kind in each task and after that
for the events numbered 16, 32, 64, ... (powers of two). Every Reset and injection event is
covered at the published schedules (4 resets and at most 1 injection per task), while ReDo (990
events per 1M-step task) and NE (~15,000) keep a log-spaced sample: snapshotting every NE event
would cost 30,000 probe passes and a record of hundreds of megabytes. Counts always cover every event.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

SNAPSHOT_FIRST = 8


def snapshot_due(number: int) -> bool:
    """Whether the `number`-th event (1-based) of a kind in a task gets before/after snapshots."""
    return number <= SNAPSHOT_FIRST or (number & (number - 1)) == 0


@dataclass
class StructuralEvent:
    """One event while it happens: the method sets `acted` [S] to the seeds it changed (default: all)."""

    kind: str
    acted: torch.Tensor
    details: dict[str, Any] = field(default_factory=dict)  # per-seed numbers worth logging, name -> [S]


class EventLog:
    """Per task and kind, each seed's event count; a bounded list of events with their snapshots."""

    def __init__(self, num_tasks: int, num_seeds: int) -> None:
        self.num_tasks, self.num_seeds = num_tasks, num_seeds
        self.counts: dict[str, list[list[int]]] = {}  # kind -> [N][S]
        self.fired: dict[str, list[int]] = {}  # kind -> [N] events (any seed) per task, for snapshot numbering
        self.entries: list[dict[str, Any]] = []

    def number(self, kind: str, task: int) -> int:
        """1-based number the next event of `kind` in `task` will have."""
        return self.fired.get(kind, [0] * self.num_tasks)[task] + 1

    def add(self, event: StructuralEvent, task: int, env_step: int, update: int,
            before: dict[str, list[float]] | None, after: dict[str, list[float]] | None) -> None:
        counts = self.counts.setdefault(event.kind, [[0] * self.num_seeds for _ in range(self.num_tasks)])
        acted = [bool(a) for a in event.acted.tolist()]
        counts[task] = [c + a for c, a in zip(counts[task], acted)]
        fired = self.fired.setdefault(event.kind, [0] * self.num_tasks)
        fired[task] += 1
        if before is not None or after is not None:
            self.entries.append({"kind": event.kind, "task": task, "number": fired[task], "env_step": env_step,
                                 "update": update, "acted": acted,
                                 "details": {k: [float(x) for x in torch.as_tensor(v).flatten().tolist()]
                                             for k, v in event.details.items()},
                                 "before": before, "after": after})

    def per_task(self) -> list[list[int]]:
        """[N][S]: each seed's events in each task, all kinds together."""
        total = [[0] * self.num_seeds for _ in range(self.num_tasks)]
        for counts in self.counts.values():
            total = [[a + b for a, b in zip(row, add)] for row, add in zip(total, counts)]
        return total

    def totals(self, kinds: tuple[str, ...]) -> dict[str, list[float]]:
        """kind -> [S]: each seed's events so far, over all tasks; what live loggers plot beside the curves."""
        zero = [[0] * self.num_seeds]
        return {kind: [float(sum(col)) for col in zip(*self.counts.get(kind, zero))] for kind in kinds}

    def record(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        """The record's `events` field (results/README.md)."""
        per_task = self.per_task()
        return {"kinds": list(kinds), "per_task": per_task,
                "total": [sum(row[s] for row in per_task) for s in range(self.num_seeds)],
                "by_kind": {kind: self.counts.get(kind, [[0] * self.num_seeds for _ in range(self.num_tasks)])
                            for kind in kinds},
                "log": list(self.entries)}

    def state_dict(self) -> dict:
        return {"counts": self.counts, "fired": self.fired, "entries": self.entries}

    def load_state_dict(self, state: dict) -> None:
        self.counts, self.fired, self.entries = dict(state["counts"]), dict(state["fired"]), list(state["entries"])
