"""Benchmarks of the simulator (run by hand, not part of the test suite).

    python benchmarks/bench.py tandem      # the model vs plain SimPy on the same tandem network
    python benchmarks/bench.py city        # a city-wide year: baseline with scale=35, 1 replication
    python benchmarks/bench.py companies   # the city as its companies: a year, 1 process and split
    python benchmarks/bench.py memory      # memory per counted case: peak RSS at scales 10 and 35
    python benchmarks/bench.py eventlog    # the peak RSS the event log's table adds, against its size
    python benchmarks/bench.py parallel    # 8 replications serially and on all cores
    python benchmarks/bench.py all         # all three (a few minutes)
    python benchmarks/bench.py compare /tmp/other-checkout   # tandem ratio: that tree vs this one

``tandem``: one network, built twice. The project's model gets it as a scenario (a dict: six stages
in series, two pools shared by two stages each, an inspection that fails with probability 0.2 and
sends the case through a fix and back, at most three attempts). ``plain_simpy`` is a minimal
SimPy program of the same network: the same arrivals, the same distributions, FCFS pools,
the same rework rule, and the same stopping rule (arrivals go on until the last case of the
counted window is done). Both count every stage visit (rework and fix included). The two run
alternately in one process, each ``--repeat`` times; the best time of each gives visits per
second and the ratio. Peak memory per case is measured in separate runs under ``tracemalloc``.
Results are printed as Markdown table rows for ``benchmarks/README.md``.

``compare``: the tandem ratio of another checkout of the project (e.g. ``git worktree add
/tmp/before <commit>``) against this one, on a machine shared with other work. Single timings then
vary by tens of percent, so each round runs each tree in a fresh process (the order alternating
from round to round), both programs timed in CPU seconds of the process (not wall time, which
counts the other work too), best of ``--repeat``; the medians over the rounds are reported.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":  # the project of this checkout, unless --root names another (see main)
    sys.path.insert(0, str(ROOT))

# ------------------------------------------------------------------------------ the network

RATE = 20.0  # arrivals per working day
POOLS = {"clerk": 52, "engineer": 90, "crew": 135, "meter": 28}
# stage: (pool or None, (min, mode, max) working days)
STAGES = {
    "intake": ("clerk", (0.5, 1.0, 2.0)),
    "survey": ("engineer", (1.0, 2.0, 4.0)),
    "review": ("clerk", (0.5, 1.0, 1.5)),
    "build": ("crew", (2.0, 5.0, 10.0)),
    "inspect": ("engineer", (0.5, 1.0, 2.0)),
    "connect": ("meter", (0.5, 1.0, 2.0)),
    "fix": (None, (1.0, 2.0, 4.0)),
}
FLOW = ["intake", "survey", "review", "build", "inspect", "connect"]
REWORK = {"inspect": (0.2, "fix", 3)}  # probability, fix stage, max attempts


def _staff_in_hours() -> bool:
    """Whether the ``sim`` measured reads staff work in hours (``effort``; checkouts before it
    gave staffed stages a ``duration``), so that ``compare`` can measure either."""
    from sim.scenario.schema import Pool

    return "hours_per_day" in Pool.model_fields


def tandem_scenario(days: float, seed: int = 1) -> dict:
    """The network as a scenario of the project (one segment, no attributes)."""
    hours = _staff_in_hours()

    def tri(t):
        return {"dist": "triangular", "min": t[0], "mode": t[1], "max": t[2]}

    stages = {}
    for name, (pool, t) in STAGES.items():
        stage = {"label": name, "owner": "customer" if name == "fix" else "utility"}
        if pool:
            stage["pool"] = pool
        # staff at one productive hour a day: an effort of t hours keeps a member t days
        stage["effort" if pool and hours else "duration"] = tri(t)
        if name in REWORK:
            p, fix, attempts = REWORK[name]
            stage["rework"] = {"probability": p, "fix": fix, "max_attempts": attempts}
        stages[name] = stage
    stages["intake"]["handling"] = True
    stages["connect"]["handling"] = True
    return {
        "name": "tandem",
        "seed": seed,
        "horizon": {"start": "2021-01-04", "warmup_days": 0, "arrival_days": days, "drain_days": 400},
        "calendar": {"beyond_published": "statutory_only"},
        "resources": {
            name: {"capacity": c, "hours_per_day": 1} if hours else {"capacity": c}
            for name, c in POOLS.items()
        },
        "stages": stages,
        "segments": {
            "all": {"label": "all", "arrivals": {"per_working_day": RATE}, "flow": list(FLOW)},
        },
    }


def counting_model():
    """The model class, extended to keep its cases and count their stage visits afterwards
    (those computed a chunk at a time too, in checkouts that have ``sim.engine.batch``)."""
    from sim.engine.model import ConnectionModel

    try:
        from sim.engine import batch
    except ImportError:  # older checkouts
        batch = None
    walk = "walk" if hasattr(ConnectionModel, "walk") else "_walk"  # ``_walk`` in older checkouts
    walked = getattr(ConnectionModel, walk)

    class CountingModel(ConnectionModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.all_cases = []
            self.chunk_cases = 0
            self.chunk_visits = 0

        def counted_walk(self, case, steps, whole, *more):
            if whole:
                self.all_cases.append(case)
            return walked(self, case, steps, whole, *more)  # the generator itself: no extra frame per event

        def run_all(self):
            if batch is None:
                return super().run_all()
            recorded = batch._record

            def counting(unit, key, part, *rest):  # the cases a chunk kept, and their visits
                keep = rest[-1]
                self.chunk_cases += int(keep.sum())
                self.chunk_visits += int(sum(v[keep].sum() for v in part.visits.values()))
                return recorded(unit, key, part, *rest)

            batch._record = counting
            try:
                return super().run_all()
            finally:
                batch._record = recorded

        def cases(self) -> int:
            return len(self.all_cases) + self.chunk_cases

        def visits(self) -> int:
            return sum(sum(c.visits.values()) for c in self.all_cases) + self.chunk_visits

    setattr(CountingModel, walk, CountingModel.counted_walk)
    return CountingModel


def run_model(scenario, count: bool = True) -> tuple[int, int]:
    """(stage visits, counted cases) of one replication of the model (visits 0 unless ``count``)."""
    from sim.engine.model import ConnectionModel, calendar_for

    model = (counting_model() if count else ConnectionModel)(scenario, 0, calendar=calendar_for(scenario))
    records = model.run()
    return (model.visits() if count else 0), len(records.cases)


def plain_simpy(days: float, seed: int = 1) -> tuple[int, int]:
    """The same network in plain SimPy: (stage visits, counted cases)."""
    rng = random.Random(seed)
    env = simpy.Environment()
    pools = {name: simpy.Resource(env, c) for name, c in POOLS.items()}
    state = {"visits": 0, "open": 0, "counted": 0}
    done = env.event()

    def visit(name):
        pool, (lo, mode, hi) = STAGES[name]
        state["visits"] += 1
        if pool is None:
            yield env.timeout(rng.triangular(lo, hi, mode))
        else:
            with pools[pool].request() as request:
                yield request
                yield env.timeout(rng.triangular(lo, hi, mode))

    def case(counted):
        for name in FLOW:
            rework = REWORK.get(name)
            attempts = rework[2] if rework else 1
            for attempt in range(attempts):
                yield from visit(name)
                if attempt == attempts - 1 or rng.random() >= rework[0]:
                    break
                yield from visit(rework[1])
        if counted:
            state["open"] -= 1
            if state["open"] == 0 and env.now >= days and not done.triggered:
                done.succeed()

    def arrivals():
        while True:
            yield env.timeout(rng.expovariate(RATE))
            counted = env.now < days
            if counted:
                state["open"] += 1
                state["counted"] += 1
            env.process(case(counted))

    env.process(arrivals())
    env.run(until=done)
    return state["visits"], state["counted"]


def _timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _peak_per_case(fn, *args) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    _, cases = fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / max(cases, 1), cases


def _cpu_timed(fn, *args) -> float:
    gc.collect()
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def tandem_cpu_times(days: float, repeat: int) -> dict:
    """CPU seconds of ``repeat`` runs of the model and of plain SimPy, alternating (no counting)."""
    import sim
    from sim.engine.model import calendar_for

    scenario = sim.scenario_from_dict(tandem_scenario(days))
    calendar_for(scenario)
    times: dict = {"sim": sim.__file__, "model": [], "plain": []}
    for _ in range(repeat):
        times["model"].append(_cpu_timed(run_model, scenario, False))
        times["plain"].append(_cpu_timed(plain_simpy, days))
    return times


def compare_trees(other: Path, rounds: int, days: float, repeat: int) -> dict:
    """The tandem ratio of another checkout and of this one: medians over alternating rounds."""
    trees = {"other": Path(other).resolve(), "this": ROOT}
    per_round: dict = {name: [] for name in trees}
    for r in range(rounds):
        for name in sorted(trees, reverse=r % 2 == 1):  # alternate which goes first
            command = [sys.executable, __file__, "tandem-cpu", "--root", str(trees[name])]
            command += ["--days", str(days), "--repeat", str(repeat)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            times = json.loads(out.splitlines()[-1])
            if not Path(times["sim"]).is_relative_to(trees[name]):
                raise RuntimeError(f"{trees[name]}: imported {times['sim']} instead")
            per_round[name].append((min(times["model"]), min(times["plain"])))
    result = {}
    for name, runs in per_round.items():
        result[name] = {
            "tree": str(trees[name]),
            "model_s": statistics.median(m for m, _ in runs),
            "plain_s": statistics.median(p for _, p in runs),
            "ratio": statistics.median(m / p for m, p in runs),
            "ratios": [m / p for m, p in runs],
        }
    return result


def bench_tandem(days: float, repeat: int) -> dict:
    import sim
    from sim.engine.model import calendar_for

    scenario = sim.scenario_from_dict(tandem_scenario(days))
    calendar_for(scenario)  # built once and cached, as in every run
    # the visits of the model are counted in a run of their own (the runs are deterministic):
    # keeping every case to count them would slow the timed runs down (garbage collection)
    model_visits, model_cases = run_model(scenario, count=True)
    model_times, plain_times = [], []
    for _ in range(repeat):  # alternate, so both see the same machine load
        t, _ = _timed(run_model, scenario, False)
        model_times.append(t)
        t, (plain_visits, plain_cases) = _timed(plain_simpy, days)
        plain_times.append(t)
    model_rate = model_visits / min(model_times)
    plain_rate = plain_visits / min(plain_times)
    model_mem, _ = _peak_per_case(run_model, scenario, False)
    plain_mem, _ = _peak_per_case(plain_simpy, days)
    return {
        "days": days,
        "model_visits": model_visits,
        "model_cases": model_cases,
        "plain_visits": plain_visits,
        "plain_cases": plain_cases,
        "model_s": min(model_times),
        "plain_s": min(plain_times),
        "model_rate": model_rate,
        "plain_rate": plain_rate,
        "ratio": plain_rate / model_rate,
        "model_bytes_per_case": model_mem,
        "plain_bytes_per_case": plain_mem,
    }


def bench_city(scale: float = 35, seed: int | None = None, trace: bool = False) -> dict:
    import sim
    from sim.engine.model import ConnectionModel, calendar_for

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", {"scale": scale})
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    calendar_for(scenario)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    records = ConnectionModel(scenario, 0, calendar=calendar_for(scenario)).run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    counted, end_wd, still_open = len(records.cases), records.end_wd, int((~records.cases["finished"]).sum())
    del records  # the peak above is this run's alone
    gc.collect()
    model = counting_model()(scenario, 0, calendar=calendar_for(scenario))  # counts the visits (untimed)
    model.run()
    all_cases, visits = model.cases(), model.visits()
    del model
    traced = None
    if trace:  # peak of the Python heap during a run, in a run of its own (tracemalloc is slow)
        traced, _ = _peak_per_case(run_model, scenario, False)
    return {
        "scale": scale,
        "seconds": seconds,
        "cpu_s": cpu,
        "counted_cases": counted,
        "all_cases": all_cases,
        "visits": visits,
        "visits_per_s": visits / seconds,
        "end_wd": end_wd,
        "open": still_open,
        "peak_rss_mib": rss,
        "traced_bytes_per_case": traced,
    }


def peak_rss_of_run(scale: float) -> dict:
    """The peak resident memory of this process over one city-wide year at ``scale`` (run in a
    process of its own by ``bench_memory``: the peak is the run's)."""
    import sim
    from sim.engine.model import ConnectionModel, calendar_for

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", {"scale": scale})
    records = ConnectionModel(scenario, 0, calendar=calendar_for(scenario)).run()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    return {"scale": scale, "counted": len(records.cases), "peak_rss_mib": rss}


def bench_memory(scales: tuple[float, float], root: Path | None, repeat: int = 1) -> dict:
    """Memory per counted case: the slope of the peak resident memory between city-wide years
    at two scales, each run in a fresh process (what stays the same, the interpreter and its
    libraries, cancels out); with ``repeat``, the lowest peak of as many runs at each scale (a
    peak varies by a few MiB from run to run: 20-30 B a case on the slope)."""
    runs = []
    for scale in scales:
        command = [sys.executable, __file__, "memory-run", "--scale", str(scale)]
        command += ["--root", str(root)] if root is not None else []
        tries = []
        for _ in range(repeat):
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            tries.append(json.loads(out.splitlines()[-1]))
        runs.append(min(tries, key=lambda run: run["peak_rss_mib"]))
    (a, b) = runs
    slope = (b["peak_rss_mib"] - a["peak_rss_mib"]) * 2**20 / (b["counted"] - a["counted"])
    return {"runs": runs, "bytes_per_case": slope}


def _rss_mib() -> tuple[float, float]:
    """This process's resident memory now and at its peak so far (MiB; Linux ``/proc``)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def event_log_peak(scale: float, events: bool) -> dict:
    """The peak resident memory of a run of the district baseline at ``scale``, with the event log
    or without it (run in a process of its own by ``eventlog``: the peak is the run's); with it,
    also how much building the log's table raised the peak, and the table's size. Without it,
    every case is still walked in the event loop, as the log has it (``ahead`` off), so that the
    two runs differ by the log alone."""
    import sim
    from sim.engine import event_records
    from sim.engine.model import ConnectionModel, calendar_for

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", {"scale": scale})
    seen: dict = {}
    table = event_records.EventRecords.table

    def measured(self, *args):
        seen["rows"], seen["before"] = len(self), _rss_mib()[1]
        built = table(self, *args)
        seen["after"] = _rss_mib()[1]
        return built

    event_records.EventRecords.table = measured  # type: ignore[method-assign]
    model = ConnectionModel(scenario, 0, calendar=calendar_for(scenario), events=events)
    model.ahead = None  # no case computed at its application: the same run either way
    records = model.run()
    run = {"scale": scale, "events": events, "peak_mib": _rss_mib()[1]}
    if events:
        assert records.events is not None
        run["log_mib"] = float(records.events.memory_usage(deep=True).sum()) / 2**20
        run["rows"], run["raised_mib"] = seen["rows"], seen["after"] - seen["before"]
    return run


def bench_companies(name: str = "city-2020.yaml") -> dict:
    """One replication of the city as its supply companies (``name``): in this process, and split
    into its companies on all cores (the same tables)."""
    import sim
    from sim.experiments.executors import default_jobs

    scenario = sim.load_scenario(ROOT / "scenarios" / name)
    jobs = default_jobs()
    start = time.process_time()
    one_s, one = _timed(sim.run, scenario, 1, None, 1)
    cpu = time.process_time() - start
    split_s, split = _timed(lambda: sim.run(scenario, 1, None, jobs, split_companies=True))
    return {
        "scenario": name,
        "companies": len(scenario.companies),
        "one_s": one_s,
        "one_cpu_s": cpu,
        "jobs": jobs,
        "split_s": split_s,
        "counted": len(one.cases),
        "identical": one.cases.equals(split.cases),
    }


def bench_parallel(reps: int = 8, scale: float = 1.0) -> dict:
    import sim
    from sim.experiments.executors import default_jobs

    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", {"scale": scale})
    jobs = default_jobs()
    serial_s, serial = _timed(sim.run, scenario, reps, None, 1)
    parallel_s, parallel = _timed(sim.run, scenario, reps, None, jobs)
    serial_s = min(serial_s, _timed(sim.run, scenario, reps, None, 1)[0])  # best of two each
    parallel_s = min(parallel_s, _timed(sim.run, scenario, reps, None, jobs)[0])
    identical = serial.cases.equals(parallel.cases)
    return {
        "reps": reps,
        "scale": scale,
        "jobs": jobs,
        "serial_s": serial_s,
        "parallel_s": parallel_s,
        "speedup": serial_s / parallel_s,
        "identical": identical,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what",
        choices=(
            "tandem",
            "city",
            "companies",
            "memory",
            "eventlog",
            "parallel",
            "all",
            "compare",
            "tandem-cpu",
            "memory-run",
            "eventlog-run",
        ),
    )
    parser.add_argument("other", nargs="?", type=Path, help="compare: another checkout of the project")
    parser.add_argument("--root", type=Path, help="the checkout whose sim package is measured")
    parser.add_argument("--rounds", type=int, default=6, help="compare: fresh processes per tree")
    parser.add_argument("--days", type=float, default=1000, help="tandem: working days of arrivals")
    parser.add_argument("--repeat", type=int, default=3, help="tandem, memory: runs of each, best taken")
    parser.add_argument("--scale", type=float, default=35, help="city: scale of the baseline")
    parser.add_argument("--trace", action="store_true", help="city: also the peak heap per case")
    parser.add_argument("--log-scale", type=float, default=10, help="eventlog: scale of the baseline")
    parser.add_argument("--events", action="store_true", help="eventlog-run: with the event log")
    parser.add_argument("--reps", type=int, default=8, help="parallel: replications")
    parser.add_argument("--parallel-scale", type=float, default=1.0, help="parallel: scale of the baseline")
    args = parser.parse_args(argv)
    if args.root is not None:
        sys.path.insert(0, str(args.root.resolve()))
    if args.what == "tandem-cpu":  # one round of compare, in a process of its own
        print(json.dumps(tandem_cpu_times(args.days, args.repeat)))
        return 0
    if args.what == "memory-run":  # one run of memory, in a process of its own
        print(json.dumps(peak_rss_of_run(args.scale)))
        return 0
    if args.what == "eventlog-run":  # one run of eventlog, in a process of its own
        print(json.dumps(event_log_peak(args.scale, args.events)))
        return 0
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SimPy {simpy.__version__}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if args.what in ("tandem", "all"):
        r = bench_tandem(args.days, args.repeat)
        print(
            f"tandem ({r['days']:g} days of arrivals, best of {args.repeat}): "
            f"model {r['model_visits']:,} visits in {r['model_s']:.2f} s = {r['model_rate']:,.0f} visits/s; "
            f"plain SimPy {r['plain_visits']:,} visits in {r['plain_s']:.2f} s = "
            f"{r['plain_rate']:,.0f} visits/s; "
            f"ratio {r['ratio']:.2f}x; peak memory per counted case: model "
            f"{r['model_bytes_per_case'] / 1024:.2f} KiB, plain {r['plain_bytes_per_case'] / 1024:.2f} KiB "
            f"({r['model_cases']:,} / {r['plain_cases']:,} counted cases)"
        )
    if args.what == "compare":
        if args.other is None:
            parser.error("compare needs the path of another checkout")
        r = compare_trees(args.other, args.rounds, args.days, args.repeat)
        for name in ("other", "this"):
            t = r[name]
            print(
                f"{name} ({t['tree']}): model {t['model_s']:.2f} s, plain SimPy {t['plain_s']:.2f} s "
                f"(CPU, medians of {args.rounds} rounds of best of {args.repeat}); ratio {t['ratio']:.3f}x "
                f"(rounds: {', '.join(f'{x:.3f}' for x in t['ratios'])})"
            )
    if args.what in ("city", "all"):
        r = bench_city(args.scale, trace=args.trace)
        print(
            f"city-wide year (baseline, scale {r['scale']:g}, 1 replication): {r['seconds']:.1f} s "
            f"({r['cpu_s']:.1f} s CPU); "
            f"{r['counted_cases']:,} counted cases ({r['all_cases']:,} simulated with warm-up and drain, "
            f"{r['open']} open at the end), {r['visits']:,} stage visits = "
            f"{r['visits_per_s']:,.0f} visits/s; "
            f"run ends at working day {r['end_wd']:.0f}; peak RSS {r['peak_rss_mib']:.0f} MiB"
            + (
                f"; peak Python heap per counted case {r['traced_bytes_per_case'] / 1024:.2f} KiB"
                if r["traced_bytes_per_case"] is not None
                else ""
            )
        )
    if args.what == "companies":
        r = bench_companies()
        print(
            f"the city as its {r['companies']} companies ({r['scenario']}, 1 replication, "
            f"{r['counted']:,} counted cases): one process {r['one_s']:.1f} s ({r['one_cpu_s']:.1f} s CPU); "
            f"split into its companies on {r['jobs']} processes {r['split_s']:.1f} s "
            f"(tables identical: {r['identical']})"
        )
    if args.what == "memory":
        r = bench_memory((10.0, 35.0), args.root, args.repeat)
        runs = "; ".join(
            f"scale {x['scale']:g}: {x['counted']:,} counted cases, peak RSS {x['peak_rss_mib']:.0f} MiB"
            for x in r["runs"]
        )
        print(
            f"memory per counted case (peak RSS slope, city-wide year, lowest peak of {args.repeat} runs "
            f"each): {r['bytes_per_case']:,.0f} B ({runs})"
        )
    if args.what == "eventlog":
        runs = {}
        for events in (False, True):
            command = [sys.executable, __file__, "eventlog-run", "--scale", str(args.log_scale)]
            command += ["--root", str(args.root)] if args.root is not None else []
            command += ["--events"] if events else []
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs[events] = json.loads(out.splitlines()[-1])
        r, without = runs[True], runs[False]["peak_mib"]
        added = r["peak_mib"] - without
        print(
            f"event log (baseline, scale {r['scale']:g}, {r['rows']:,} rows, "
            f"a {r['log_mib']:.0f} MiB table): peak RSS {without:.0f} MiB without it, "
            f"{r['peak_mib']:.0f} MiB with it (every case in the event loop both ways): "
            f"it adds {added:.0f} MiB, {added / r['log_mib']:.2f}x the log "
            f"({added - r['log_mib']:+.0f} MiB); "
            f"building its table raises the peak by {r['raised_mib']:.0f} MiB"
        )
    if args.what in ("parallel", "all"):
        r = bench_parallel(args.reps, args.parallel_scale)
        print(
            f"{r['reps']} replications (baseline, scale {r['scale']:g}): serial {r['serial_s']:.1f} s, "
            f"{r['jobs']} processes {r['parallel_s']:.1f} s, speed-up {r['speedup']:.2f}x "
            f"(tables identical: {r['identical']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
