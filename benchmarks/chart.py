"""Draw the benchmark results as one PNG (needs matplotlib, a bench-only dependency)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

_OURS = "#d08a00"
_BASELINE = "#5b6b7f"
_MET = "#2e8b57"
_MISSED = "#c0392b"

# (what, ours, baseline) for the per-request panel.
_PAIRS = (
    ("async, sequential\nvs aiohttp", "hive_async_seq", "aiohttp_seq"),
    ("bulk, 64 in flight\nvs aiohttp gather", "hive_bulk_64", "aiohttp_gather_64"),
    ("sync, sequential\nvs requests", "hive_sync_seq", "requests_seq"),
    ("sync, 8 threads\nvs requests per thread", "hive_sync_8t", "requests_8t"),
)


def _cpu(results: dict[str, Any], name: str) -> tuple[float, float, float]:
    cpu = results[name]["cpu_us_per_request"]
    return cpu["median"], cpu["median"] - cpu["min"], cpu["max"] - cpu["median"]


def _per_request_panel(axes: Any, results: dict[str, Any]) -> None:
    pairs = [pair for pair in _PAIRS if pair[1] in results and pair[2] in results]
    width = 0.38
    for offset, index, color, label in (
        (-width / 2, 1, _OURS, "hive-socket"),
        (width / 2, 2, _BASELINE, "written by hand"),
    ):
        values = [_cpu(results, pair[index]) for pair in pairs]
        bars = axes.bar(
            [position + offset for position in range(len(pairs))],
            [value[0] for value in values],
            width,
            yerr=[[value[1] for value in values], [value[2] for value in values]],
            color=color,
            label=label,
            capsize=3,
        )
        axes.bar_label(bars, fmt="%.0f", padding=2, fontsize=8)
    axes.set_xticks(range(len(pairs)), [pair[0] for pair in pairs], fontsize=8)
    axes.set_ylabel("client CPU per request (us), median [min-max]")
    axes.set_title("Client CPU per request (lower is better)")
    axes.legend(fontsize=8, loc="upper left")


def _ratio_panel(axes: Any, comparisons: list[dict[str, Any]]) -> None:
    targeted = [found for found in comparisons if found["target"] is not None]
    positions = range(len(targeted))
    bars = axes.barh(
        positions,
        [found["ratio"] for found in targeted],
        xerr=[
            [found["ratio"] - found["round_ratio_min"] for found in targeted],
            [found["round_ratio_max"] - found["ratio"] for found in targeted],
        ],
        color=[_MET if found["met"] else _MISSED for found in targeted],
        capsize=3,
    )
    axes.bar_label(bars, fmt="%.2f", padding=4, fontsize=8)
    for position, found in zip(positions, targeted, strict=False):
        axes.plot(
            [found["target"]] * 2, [position - 0.4, position + 0.4], color="black", linewidth=2
        )
    axes.set_yticks(positions, [found["name"] for found in targeted], fontsize=8)
    axes.invert_yaxis()
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel(
        "hive-socket / baseline, CPU per request\n"
        "median of the per-round ratios [min-max]; black bar: the target",
        fontsize=8,
    )
    axes.set_title("Ratio to the hand-written baseline")


def _scale_panels(cost: Any, memory: Any, scale: list[dict[str, Any]]) -> None:
    labels = [f"{row['recipients']:,} recipients" for row in scale]
    bars = cost.bar(labels, [row["cpu_us_per_request"] for row in scale], color=_OURS)
    cost.bar_label(
        bars,
        labels=[
            f"{row['cpu_us_per_request']:.0f} us CPU/req\n"
            f"{row['requests_per_second']:,.0f} req/s (wall clock)"
            for row in scale
        ],
        padding=2,
        fontsize=8,
    )
    cost.set_ylabel("client CPU per request (us), median of the calls")
    cost.set_ylim(top=max(row["cpu_us_per_request"] for row in scale) * 1.3)
    cost.set_title("notify.users, 64 in flight: cost per request as the list grows")

    held = [row["retained_bytes"] / 2**20 for row in scale]
    during = [row["transient_bytes"] / 2**20 for row in scale]
    memory.bar(labels, held, color=_BASELINE, label="the result, held after the call")
    bars = memory.bar(
        labels, during, bottom=held, color=_OURS, label="needed only while the call ran"
    )
    memory.bar_label(
        bars,
        labels=[
            f"{d:.1f} MiB during the call\n{row['retained_bytes'] / row['recipients']:.0f} B"
            " per recipient held"
            for d, row in zip(during, scale, strict=False)
        ],
        padding=2,
        fontsize=8,
    )
    memory.set_ylim(top=max(h + d for h, d in zip(held, during, strict=False)) * 1.3)
    memory.set_ylabel("peak resident memory over the start of the call (MiB)")
    memory.set_title("notify.users, 64 in flight: memory")
    memory.legend(fontsize=8, loc="upper left")


def draw(report: dict[str, Any], path: Path) -> None:
    """Write the chart of one benchmark report to ``path``."""
    rows = 2 if report["scale"] else 1
    figure, axes = plt.subplots(rows, 2, figsize=(13, 5.2 * rows), squeeze=False)
    _per_request_panel(axes[0][0], report["variants"])
    _ratio_panel(axes[0][1], report["comparisons"])
    if report["scale"]:
        _scale_panels(axes[1][0], axes[1][1], report["scale"])
    meta = report["meta"]
    figure.suptitle(
        f"hive-socket {meta['versions'].get('hive-socket', '')}: client cost against a stub "
        f"server ({meta['server']}), Python {meta['python']}, {meta['cpus']} CPUs"
        f"{', pinned' if meta.get('pinned') else ''}, {meta['rounds']} interleaved rounds",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
