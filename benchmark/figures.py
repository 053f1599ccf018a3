"""Leaderboard figures (matplotlib, Agg): aggregate intervals, performance profiles, learning and
plasticity-metric curves. Each figure is written as PNG and SVG, byte-identical on regeneration:
a fixed `svg.hashsalt`, no date or software version in the metadata, sorted inputs.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

Interval = tuple[float, float, float]  # (point, low, high)
STYLE = {"svg.hashsalt": "plasticbench", "svg.fonttype": "none", "font.size": 8, "figure.dpi": 100}


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """stem.png and stem.svg, without timestamps; closes the figure."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    with plt.rc_context(STYLE):
        fig.savefig(paths[0], metadata={"Software": None})
        fig.savefig(paths[1], metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return paths


def _figure(width: float, height: float, ncols: int = 1) -> tuple[plt.Figure, np.ndarray]:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False, layout="constrained")
    return fig, axes[0]


def aggregate_intervals(stem: Path, title: str, rows: dict[str, dict[str, Interval]]) -> list[Path]:
    """One panel per aggregate (IQM, median, mean, optimality gap); a bar per method = its 95% CI."""
    metrics = list(next(iter(rows.values())))
    labels = list(rows)
    fig, axes = _figure(2.4 * len(metrics), 0.6 + 0.3 * len(labels), len(metrics))
    for ax, metric in zip(axes, metrics):
        for y, label in enumerate(labels):
            point, low, high = rows[label][metric]
            ax.barh(y, high - low, left=low, height=0.6, color=f"C{y % 10}", alpha=0.6)
            ax.plot([point, point], [y - 0.3, y + 0.3], color="k", linewidth=1)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0] else [""] * len(labels))
        ax.set_title(metric)
    fig.suptitle(title)
    return save(fig, stem)


def performance_profiles(stem: Path, title: str, taus: np.ndarray,
                         profiles: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[Path]:
    """Fraction of runs with normalized score > tau, with 95% bootstrap bands."""
    fig, (ax,) = _figure(4.5, 3.0)
    for i, (label, (profile, low, high)) in enumerate(profiles.items()):
        ax.plot(taus, profile, color=f"C{i % 10}", label=label, linewidth=1)
        ax.fill_between(taus, low, high, color=f"C{i % 10}", alpha=0.2, linewidth=0)
    ax.set_xlabel("normalized score τ")
    ax.set_ylabel("fraction of runs with score > τ")
    ax.legend(fontsize=6)
    ax.set_title(title)
    return save(fig, stem)


def curves(stem: Path, title: str, ylabel: str, series: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]) -> list[Path]:
    """One panel per key of `series` (a metric); one line per method: (steps, mean over runs and seeds)."""
    fig, axes = _figure(4.0 * len(series), 2.8, len(series))
    for ax, (panel, lines) in zip(axes, series.items()):
        for i, (label, (steps, values)) in enumerate(lines.items()):
            ax.plot(steps, values, color=f"C{i % 10}", label=label, linewidth=1)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(ylabel if len(series) == 1 else panel)
        ax.legend(fontsize=6)
    fig.suptitle(title)
    return save(fig, stem)
