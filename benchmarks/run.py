"""The hive-socket benchmark: what the SDK costs a client per request.

Method
------
* A stub server answers every request with a fixed JSON receipt. It runs in processes of
  its own (nginx when installed, else the small responder in ``stub_server.py``), so the
  CPU it burns is never counted as the client's.
* The cost measured is the client process's CPU time (``time.process_time()``: every
  thread of this process, so the blocking client's event-loop thread is counted, as it
  should be) divided by the number of requests. Wall-clock requests per second are
  reported too, but CPU time is what the targets are about.
* All variants run in one process, interleaved. Each SDK variant is paired with its
  hand-written baseline; a round measures every pair once, the order of the pairs
  rotated from round to round. Within a round each member's batch is cut into slices
  and the two members' slices alternate (AB BA AB ...), so both meet the same machine
  conditions. Before each pair a short warm-up reopens its connections. Clients are made
  once and reused across rounds, as an application would.
* On a small machine the CPU cost of a request moves with where the scheduler puts the
  threads (a wake-up on the same CPU is far cheaper than one on the other CPU), and
  that placement drifts within seconds. So many short rounds are run, and the ratio
  reported for a pair is the median of its per-round ratios, each taken from slices
  measured side by side; the ratio of the medians is in the JSON as well.
  ``--pin`` puts the client on CPU 0 and the server on CPU 1, for steadier numbers.
* Import cost is measured in fresh interpreters (CPU time of the ``import`` statement),
  in pairs too.
* Scale: ``notify.users`` calls to 10,000 and to 100,000 recipients, each in a fresh
  interpreter (``scale.py``), twice each in alternating order, reporting the medians of
  requests per second, CPU per request and resident memory.

Results go to ``benchmarks/results/latest.json`` and a chart to
``docs/images/performance.png`` (when matplotlib is installed). This is a benchmark, not
a test: it exits 0 whether targets are met or not, unless ``--check`` is given.

Usage::

    python -m benchmarks               # the full run, 2 to 3 minutes on 2 cores
    python -m benchmarks --quick       # a smoke run, under half a minute
    python -m benchmarks --help
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"  # lets the relative imports below work

from . import variants
from .stub_server import StubServer

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT: Final = ROOT / "benchmarks" / "results" / "latest.json"
DEFAULT_CHART: Final = ROOT / "docs" / "images" / "performance.png"


@dataclass
class Variant:
    """One way of doing the work, and what it measured in each round.

    ``cpu_us`` is client CPU microseconds per request (per import, for the imports).
    """

    name: str
    label: str
    run: variants.Run | None
    requests: int
    cpu_us: list[float] = field(default_factory=list)
    per_second: list[float] = field(default_factory=list)

    def warm_up(self, clients: variants.Clients, round_index: int, warmup: int) -> None:
        """Send a few untimed requests, which reopen any connection closed since."""
        assert self.run is not None
        self.run(clients, variants.user_ids(f"warm{round_index}", warmup))

    def run_slice(self, clients: variants.Clients, ids: list[str]) -> tuple[float, float]:
        """Send one request per id; return the CPU and wall seconds it took."""
        assert self.run is not None
        cpu, wall = time.process_time(), time.perf_counter()
        self.run(clients, ids)
        return time.process_time() - cpu, time.perf_counter() - wall

    def summary(self) -> dict[str, Any]:
        """Medians and spreads, for the JSON file."""
        return {
            "label": self.label,
            "requests_per_round": self.requests,
            "cpu_us_per_request": _spread(self.cpu_us),
            "requests_per_second": _spread(self.per_second),
        }


@dataclass(frozen=True)
class Comparison:
    """An SDK variant against its hand-written baseline, with the ratio it should meet."""

    name: str
    ours: str
    baseline: str
    target: float | None  # None: reported, no target


COMPARISONS: Final = (
    Comparison("async sequential vs aiohttp", "hive_async_seq", "aiohttp_seq", 1.15),
    Comparison("bulk 64 in flight vs aiohttp gather", "hive_bulk_64", "aiohttp_gather_64", 1.25),
    Comparison("sync sequential vs requests", "hive_sync_seq", "requests_seq", 0.70),
    Comparison("sync 8 threads vs requests per thread", "hive_sync_8t", "requests_8t", 0.80),
    Comparison("import vs its four dependencies", "import_hive_socket", "import_deps", 1.10),
    Comparison("sync sequential vs aiohttp", "hive_sync_seq", "aiohttp_seq", None),
    Comparison("ref: anyio portal + aiohttp vs aiohttp", "portal_aiohttp_seq", "aiohttp_seq", None),
    Comparison(
        "ref: run_coroutine_threadsafe + aiohttp vs aiohttp",
        "threadsafe_aiohttp_seq",
        "aiohttp_seq",
        None,
    ),
)


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rounds": list(values),
    }


def make_pairs(args: argparse.Namespace) -> list[tuple[Variant, ...]]:
    """The request variants, in the groups that run back to back."""
    seq, bulk, threaded = args.requests, args.bulk, args.threads * args.per_thread
    n = args.threads
    pairs = [
        (
            Variant("hive_async_seq", "hive-socket async, sequential",
                    variants.hive_async_sequential, seq),
            Variant("aiohttp_seq", "aiohttp by hand, sequential", variants.aiohttp_sequential, seq),
        ),
        (
            Variant("hive_bulk_64", "hive-socket notify.users, 64 in flight",
                    variants.hive_bulk, bulk),
            Variant("aiohttp_gather_64", "aiohttp by hand, gather of 64",
                    variants.aiohttp_gather, bulk),
        ),
        (
            Variant("hive_sync_seq", "hive-socket sync, sequential",
                    variants.hive_sync_sequential, seq),
            Variant("requests_seq", "requests.Session, sequential",
                    variants.requests_sequential, seq),
        ),
        (
            Variant("hive_sync_8t", f"hive-socket sync, one client, {n} threads",
                    variants.hive_sync_threads, threaded),
            Variant("requests_8t", f"requests.Session per thread, {n} threads",
                    variants.requests_threads, threaded),
        ),
    ]  # fmt: skip
    if args.references:
        pairs.append(
            (
                Variant("portal_aiohttp_seq", "ref: anyio portal + aiohttp by hand",
                        variants.portal_aiohttp_sequential, seq),
                Variant("threadsafe_aiohttp_seq", "ref: run_coroutine_threadsafe + aiohttp",
                        variants.threadsafe_aiohttp_sequential, seq),
            )
        )  # fmt: skip
    return pairs


def measure_group(
    clients: variants.Clients,
    group: tuple[Variant, ...],
    round_index: int,
    args: argparse.Namespace,
) -> None:
    """One round of a pair: each member's batch cut into slices, the members' slices
    alternating (ABBAAB...), so that both meet the same conditions."""
    for variant in group:
        variant.warm_up(clients, round_index, args.warmup)
    gc.collect()
    totals = {variant.name: [0.0, 0.0] for variant in group}
    for slice_index in range(args.slices):
        members = group if (slice_index + round_index) % 2 == 0 else group[::-1]
        for variant in members:
            size = variant.requests // args.slices
            ids = variants.user_ids(f"r{round_index}s{slice_index}", size)
            cpu, wall = variant.run_slice(clients, ids)
            totals[variant.name][0] += cpu
            totals[variant.name][1] += wall
    for variant in group:
        cpu, wall = totals[variant.name]
        requests = variant.requests // args.slices * args.slices
        variant.cpu_us.append(cpu / requests * 1e6)
        variant.per_second.append(requests / wall)


def run_rounds(
    clients: variants.Clients, pairs: list[tuple[Variant, ...]], args: argparse.Namespace
) -> None:
    """Measure every pair once per round, the order of the pairs rotating."""
    for group in pairs:  # opens every connection pool before anything is timed
        for variant in group:
            variant.warm_up(clients, -1, max(args.warmup, 64))
    for round_index in range(args.rounds):
        shift = round_index % len(pairs)
        for group in pairs[shift:] + pairs[:shift]:
            measure_group(clients, group, round_index, args)
        print(f"  round {round_index + 1} of {args.rounds} done", flush=True)


# --- imports ------------------------------------------------------------------------------

IMPORTS: Final = {
    # `import hive_socket` alone is lazy: import what an application uses, both clients.
    "import_hive_socket": "from hive_socket import AsyncHiveSocketClient, HiveSocketClient",
    "import_deps": "import aiohttp, anyio, attrs, cattrs",
}

_IMPORT_PROBE: Final = (
    "import time\n"
    "cpu, wall = time.process_time(), time.perf_counter()\n"
    "{statement}\n"
    "print(time.process_time() - cpu, time.perf_counter() - wall)\n"
)


def measure_import(statement: str) -> tuple[float, float]:
    """CPU and wall seconds of one import statement in a fresh interpreter."""
    out = subprocess.run(  # noqa: S603  # this interpreter, our own probe
        [sys.executable, "-c", _IMPORT_PROBE.format(statement=statement)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def measure_imports(pairs: int) -> dict[str, Variant]:
    """Both imports, ``pairs`` times each, back to back in alternating order."""
    found = {name: Variant(name, statement, None, 1) for name, statement in IMPORTS.items()}
    for statement in IMPORTS.values():
        measure_import(statement)  # writes the bytecode caches, untimed
    for pair_index in range(pairs):
        order = list(IMPORTS.items())
        if pair_index % 2:
            order.reverse()
        for name, statement in order:
            cpu, wall = measure_import(statement)
            found[name].cpu_us.append(cpu * 1e6)
            found[name].per_second.append(1 / wall)
    return found


# --- scale --------------------------------------------------------------------------------


def measure_scale(url: str, sizes: Sequence[int], repeats: int) -> list[dict[str, Any]]:
    """One notify.users call per size and repeat, each in a fresh interpreter, sizes in
    alternating order; per size, the median of every measurement."""
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for repeat in range(repeats):
        for size in sizes if repeat % 2 == 0 else list(reversed(sizes)):
            out = subprocess.run(  # noqa: S603  # this interpreter, our own module
                [sys.executable, "-m", "benchmarks.scale", "--url", url, "--recipients", str(size)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            runs[size].append(json.loads(out))
            print(f"  scale: {size:,} recipients done", flush=True)
    found = []
    for size, measured in runs.items():
        row: dict[str, Any] = {
            key: statistics.median(run[key] for run in measured)
            for key, value in measured[0].items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        row["recipients"] = size
        row["runs"] = measured
        found.append(row)
    return found


# --- report -------------------------------------------------------------------------------


def compare(results: dict[str, dict[str, Any]], comparison: Comparison) -> dict[str, Any] | None:
    """The median of the per-round ratios, their spread, and the ratio of the medians."""
    ours, baseline = results.get(comparison.ours), results.get(comparison.baseline)
    if ours is None or baseline is None:
        return None
    ours_cpu, base_cpu = ours["cpu_us_per_request"], baseline["cpu_us_per_request"]
    per_round = [a / b for a, b in zip(ours_cpu["rounds"], base_cpu["rounds"], strict=False)]
    ratio = statistics.median(per_round)
    return {
        "name": comparison.name,
        "ours": comparison.ours,
        "baseline": comparison.baseline,
        "ratio": ratio,
        "ratio_of_medians": ours_cpu["median"] / base_cpu["median"],
        "round_ratios": per_round,
        "round_ratio_min": min(per_round),
        "round_ratio_max": max(per_round),
        "target": comparison.target,
        "met": None if comparison.target is None else ratio <= comparison.target,
    }


def _versions() -> dict[str, str]:
    found = {}
    for name in ("hive-socket", "aiohttp", "anyio", "attrs", "cattrs", "requests", "yarl"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def format_table(report: dict[str, Any]) -> str:
    """The results as plain text: one line per variant, then one per comparison."""
    meta = report["meta"]
    lines = [
        f"hive-socket benchmark: {meta['rounds']} rounds, {meta['import_pairs']} import pairs, "
        f"server {meta['server']}, pinned {meta['pinned']}, Python {meta['python']}",
        "",
        f"{'variant':<48} {'CPU us/req median [min-max]':>30} {'req/s median':>13}",
    ]
    for name, result in report["variants"].items():
        cpu = result["cpu_us_per_request"]
        if name.startswith("import_"):  # one import, in milliseconds
            scale, last = 1e-3, "ms/import"
        else:
            scale, last = 1.0, f"{result['requests_per_second']['median']:,.0f}"
        spread = (
            f"{cpu['median'] * scale:8.1f} [{cpu['min'] * scale:7.1f}-{cpu['max'] * scale:7.1f}]"
        )
        lines.append(f"{result['label']:<48} {spread:>30} {last:>13}")
    lines += [
        "",
        f"{'comparison (CPU per request)':<52} {'ratio [rounds min-max]':>23} "
        f"{'of medians':>10} {'target':>8}",
    ]
    for found in report["comparisons"]:
        target = "" if found["target"] is None else f"<= {found['target']:.2f}"
        verdict = {True: "met", False: "MISSED", None: ""}[found["met"]]
        spread = (
            f"{found['ratio']:.2f} [{found['round_ratio_min']:.2f}-{found['round_ratio_max']:.2f}]"
        )
        lines.append(
            f"{found['name']:<52} {spread:>23} {found['ratio_of_medians']:>10.2f} "
            f"{target:>8} {verdict}".rstrip()
        )
    if report["scale"]:
        lines += [
            "",
            f"{'notify.users, 64 in flight':<26} {'req/s':>7} {'CPU us/req':>11} "
            f"{'peak RSS':>10} {'during call':>12} {'result held':>12}",
        ]
        for row in report["scale"]:
            lines.append(
                f"{row['recipients']:>10,} recipients {'':>4} {row['requests_per_second']:>7,.0f} "
                f"{row['cpu_us_per_request']:>11.1f} {row['rss_peak_bytes'] / 2**20:>8.1f}Mi "
                f"{row['transient_bytes'] / 2**20:>10.1f}Mi "
                f"{row['retained_bytes'] / 2**20:>10.1f}Mi"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure what hive-socket costs per request."
    )
    add = parser.add_argument
    add("--rounds", type=int, default=20, help="interleaved rounds (20)")
    add("--requests", type=int, default=500, help="sequential requests per round (500)")
    add("--bulk", type=int, default=2000, help="bulk requests per round (2000)")
    add("--threads", type=int, default=8, help="threads (8)")
    add("--per-thread", type=int, default=150, help="requests per thread per round (150)")
    add("--slices", type=int, default=5, help="alternating slices per batch (5)")
    add("--warmup", type=int, default=64, help="warm-up requests before each pair (64)")
    add("--import-pairs", type=int, default=16, help="fresh-interpreter import pairs (16)")
    add(
        "--scale",
        default="10000,100000",
        help="notify.users sizes, comma separated; empty to skip (10000,100000)",
    )
    add("--scale-repeats", type=int, default=2, help="calls per size (2)")
    add("--server", choices=("auto", "nginx", "python"), default="auto", help="stub (auto)")
    add("--pin", action="store_true", help="client on CPU 0, server on CPU 1")
    add(
        "--no-references",
        dest="references",
        action="store_false",
        help="skip the portal and run_coroutine_threadsafe reference variants",
    )
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON results")
    add("--chart", type=Path, default=DEFAULT_CHART, help="the PNG chart")
    add("--no-chart", dest="chart", action="store_const", const=None)
    add("--check", action="store_true", help="exit 1 if a target is missed")
    add("--quick", action="store_true", help="a smoke run with small batches")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.requests, args.bulk, args.per_thread = 4, 150, 500, 25
        args.import_pairs, args.scale, args.scale_repeats = 2, "2000,10000", 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the JSON (and the chart)."""
    args = parse_args(argv)
    started = time.perf_counter()
    prefer_nginx = args.server != "python"
    if args.server == "nginx" and StubServer().kind != "nginx":
        raise SystemExit("--server nginx: nginx is not installed (apt-get install nginx-light)")
    pinned = args.pin and len(os.sched_getaffinity(0)) >= 2
    server_cpus = None
    if pinned:
        client_cpu, server_cpu = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, {client_cpu})  # threads and subprocesses started later too
        server_cpus = {server_cpu}
    sizes = [int(size) for size in args.scale.split(",") if size.strip()]
    with StubServer(prefer_nginx=prefer_nginx, cpus=server_cpus) as server:
        print(f"stub server: {server.kind} at {server.url}", flush=True)
        clients = variants.Clients(server.url, threads=args.threads)
        pairs = make_pairs(args)
        try:
            run_rounds(clients, pairs, args)
        finally:
            clients.close()
        imports = measure_imports(args.import_pairs)
        print("  imports done", flush=True)
        scale = measure_scale(server.url, sizes, args.scale_repeats)
        server_kind = server.kind

    results = {variant.name: variant.summary() for group in pairs for variant in group}
    results.update({name: variant.summary() for name, variant in imports.items()})
    report: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "server": server_kind,
            "pinned": pinned,
            "rounds": args.rounds,
            "import_pairs": args.import_pairs,
            "versions": _versions(),
            "seconds": 0.0,
            "metric": "client process CPU time per request (time.process_time), microseconds",
        },
        "variants": results,
        "comparisons": [c for c in (compare(results, item) for item in COMPARISONS) if c],
        "scale": scale,
    }
    report["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    print()
    print(format_table(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {args.output}")
    if args.chart is not None:
        try:
            from .chart import draw
        except ImportError as exc:
            print(f"chart: skipped ({exc.name} is not installed)")
        else:
            draw(report, args.chart)
            print(f"chart: {args.chart}")
    print(f"took {report['meta']['seconds']:.0f} s")
    missed = [c["name"] for c in report["comparisons"] if c["met"] is False]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
