"""Leaderboard figures (matplotlib, Agg): aggregate intervals, performance profiles, learning and
plasticity-metric curves, task x task matrices. Each figure is written as PNG and SVG, byte-identical on regeneration:
a fixed `svg.hashsalt`, no date or software version in the metadata, sorted inputs.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

Interval = tuple[float, float, float]  # (point, low, high)
STYLE = {"svg.hashsalt": "plasticbench", "svg.fonttype": "none", "font.size": 8, "figure.dpi": 100}


Job = tuple[str, Callable[..., list[Path]], tuple]  # (file stem, drawing function, its arguments)


def _draw(directory: Path, job: Job) -> list[Path]:
    stem, function, args = job
    return function(directory / stem, *args)


def draw_all(jobs: Sequence[Job], directory: Path, workers: int | None = None) -> list[Path]:
    """Draw every figure job into ``directory``, in ``workers`` processes (default: one per core).

    Figures are independent and each costs 0.1-0.5 s of matplotlib, so a 10,000-record leaderboard
    spends most of its time here; the output does not depend on the worker count. Processes are
    forked where the platform allows it (no re-import of the harness per worker).
    """
    workers = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    if workers == 1:
        return [path for job in jobs for path in _draw(directory, job)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = pool.map(_draw, [directory] * len(jobs), jobs)
        return [path for paths in done for path in paths]


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """stem.png and stem.svg, without timestamps; closes the figure."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    with plt.rc_context(STYLE):
        fig.savefig(paths[0], metadata={"Software": None})
        fig.savefig(paths[1], metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return paths


LEGEND_WIDTH = 1.3  # inches to the right of the panels, for one legend per figure


def _line_style(i: int) -> dict:
    """Ten colors, then the same colors dashed, dotted...: 16 methods stay distinguishable."""
    return {"color": f"C{i % 10}", "linestyle": ("-", "--", ":", "-.")[(i // 10) % 4]}


def _figure(panel_width: float, height: float, ncols: int = 1, left: float = 0.6, legend: bool = False,
            nrows: int = 1) -> tuple[plt.Figure, np.ndarray]:
    """Panels at fixed margins (inches), not constrained layout: at 10,000 records the layout
    solver measured every tick label twice per figure and took a third of the drawing time.
    ``height`` is one row's; returns the axes flattened, row by row."""
    right = LEGEND_WIDTH if legend else 0.15
    width, total = left + ncols * panel_width + right, 0.25 + nrows * height
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, total), squeeze=False)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=0.5 / total,
                        top=1 - 0.65 / total, wspace=0.35 if ncols > 1 else 0.0, hspace=0.5)
    return fig, axes.ravel()


def aggregate_intervals(stem: Path, title: str, rows: dict[str, dict[str, Interval]]) -> list[Path]:
    """One panel per aggregate (IQM, median, mean, optimality gap); a bar per method = its 95% CI."""
    metrics = list(next(iter(rows.values())))
    labels = list(rows)
    left = 0.2 + 0.055 * max(len(label) for label in labels)
    fig, axes = _figure(2.0, 0.95 + 0.22 * len(labels), len(metrics), left=left)
    for ax, metric in zip(axes, metrics):
        for y, label in enumerate(labels):
            point, low, high = rows[label][metric]
            ax.barh(y, high - low, left=low, height=0.6, color=_line_style(y)["color"], alpha=0.6)
            ax.plot([point, point], [y - 0.3, y + 0.3], color="k", linewidth=1)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0] else [""] * len(labels))
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(metric)
    fig.suptitle(title)
    return save(fig, stem)


def performance_profiles(stem: Path, title: str, taus: np.ndarray,
                         profiles: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[Path]:
    """Fraction of runs with normalized score > tau, with 95% bootstrap bands."""
    fig, (ax,) = _figure(3.4, 3.0, legend=True)
    for i, (label, (profile, low, high)) in enumerate(profiles.items()):
        style = _line_style(i)
        ax.plot(taus, profile, label=label, linewidth=1, **style)
        ax.fill_between(taus, low, high, color=style["color"], alpha=0.15, linewidth=0)
    ax.set_xlabel("normalized score τ")
    ax.set_ylabel("fraction of runs with score > τ")
    fig.legend(*ax.get_legend_handles_labels(), loc="center right", fontsize=6, frameon=False)
    fig.suptitle(title)
    return save(fig, stem)


TaskSpan = tuple[str, float, float]  # (task name, first env step, last env step)


def curves(stem: Path, title: str, ylabel: str, series: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]],
           tasks: Sequence[TaskSpan] = (), events: dict[str, Sequence[float]] | None = None,
           xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None) -> list[Path]:
    """One panel per key of `series` (a metric); one line per method: (steps, mean over runs and seeds).

    `tasks` (a continual scenario's, more than one) draws a dashed line where each task after the
    first starts and the task names along the top: the first thing a reader of a continual curve
    looks for. `events` (label -> env steps of a method's structural events: resets, recycling,
    growth) draws a tick per event at the bottom of every panel, in the method's color. `xlim` and
    `ylim` fix every panel's range (per-task panels then share the scenario's time axis).
    """
    ncols = min(3, len(series))
    fig, axes = _figure(3.2, 2.6, ncols, legend=True, nrows=-(-len(series) // ncols))
    for ax in axes[len(series):]:
        ax.set_visible(False)
    labels = list(dict.fromkeys(label for lines in series.values() for label in lines))
    handles = {}
    for ax, (panel, lines) in zip(axes, series.items()):
        for label, (steps, values) in lines.items():  # a method keeps its style in every panel
            (handles[label],) = ax.plot(steps, values, linewidth=1, **_line_style(labels.index(label)))
        _event_ticks(ax, events or {}, labels)
        ax.set_xlabel("environment steps")
        ax.set_title(ylabel if len(series) == 1 else panel, pad=18 if len(tasks) > 1 else 6)
        if len(tasks) > 1:
            _task_marks(ax, tasks)
        if xlim is not None:
            ax.set_xlim(xlim)
        if ylim is not None:
            ax.set_ylim(ylim)
    if len(tasks) > 1:  # room above the first row for the task names
        height = fig.get_figheight()
        fig.subplots_adjust(top=1 - 0.85 / height)
    fig.legend([handles[label] for label in labels], labels, loc="center right", fontsize=6, frameon=False)
    fig.suptitle(title)
    return save(fig, stem)


def task_matrices(stem: Path, title: str, tasks: Sequence[str], matrices: dict[str, np.ndarray]) -> list[Path]:
    """One heatmap per method: row k = after task k's end, column j = task j, mean return or score.

    The lower triangle and diagonal are tasks already trained (forgetting reads down a column);
    the upper triangle is tasks not trained yet (zero-shot transfer)."""
    ncols = min(4, len(matrices))
    n = len(tasks)
    fig, axes = _figure(0.25 * n + 1.6, 0.25 * n + 1.0, ncols, left=0.9, legend=True, nrows=-(-len(matrices) // ncols))
    for ax in axes[len(matrices):]:
        ax.set_visible(False)
    for ax, (label, matrix) in zip(axes, matrices.items()):
        image = ax.imshow(matrix, cmap="viridis", aspect="equal")
        ax.set_xticks(range(n), [f"{j}" for j in range(n)], fontsize=6)
        ax.set_yticks(range(n), [f"{k}" for k in range(n)], fontsize=6)
        ax.set_xlabel("evaluated task", fontsize=6)
        ax.set_ylabel("after task", fontsize=6)
        ax.set_title(label, fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=5)
    fig.suptitle(f"{title}\ntasks: " + ", ".join(f"{j}={name}" for j, name in enumerate(tasks)), fontsize=6)
    return save(fig, stem)


def _task_marks(ax: plt.Axes, tasks: Sequence[TaskSpan]) -> None:
    """Dashed boundaries between tasks and each task's name above its span (x in steps, y in axes units)."""
    top = ax.get_xaxis_transform()
    for i, (name, start, end) in enumerate(tasks):
        if i > 0:
            ax.axvline(start, color="0.55", linewidth=0.6, linestyle="--", zorder=0, gid=f"task-boundary-{i}")
        ax.text(start, 1.01, name, transform=top, fontsize=5, rotation=35, ha="left", va="bottom",
                color="0.3", rotation_mode="anchor", gid=f"task-name-{i}")


def _event_ticks(ax: plt.Axes, events: dict[str, Sequence[float]], labels: list[str]) -> None:
    """A short tick per structural event at the bottom of the panel, in the color of its method."""
    for label, steps in sorted(events.items()):
        if steps and label in labels:
            color = _line_style(labels.index(label))["color"]
            ax.plot(steps, [0.02] * len(steps), linestyle="none", marker="|", markersize=5, color=color,
                    transform=ax.get_xaxis_transform(), gid=f"events-{labels.index(label)}")
