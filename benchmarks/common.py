"""Shared by the benchmark scripts: writing a result table as Markdown (and its data as JSON)."""

from __future__ import annotations

import json
from pathlib import Path


def best_time(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn``, after one call that compiles."""
    import time

    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def write_markdown(out: str, lines: list[str]) -> None:
    """Write ``lines`` (plus a final newline) to ``out``, creating its folder, and say so."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join([*lines, ""]))
    print(f"wrote {out}")


def write_results(out: str, lines: list[str], data) -> None:
    """Print the Markdown ``lines``, write them to ``out`` and ``data`` as JSON beside it (``.json``)."""
    print("\n".join(lines))
    write_markdown(out, lines)
    Path(out).with_suffix(".json").write_text(json.dumps(data, indent=1))


def run_missing(jobs, path_of, run, describe, after=None) -> None:
    """Run every job whose result file (``path_of(job)``) does not exist yet and store its result (a dict) there
    as JSON as soon as it finishes, so an interrupted benchmark resumes and two processes can share the work; a
    job that fails is printed, not hidden. ``after()`` runs after every job (e.g. ``jax.clear_caches``);
    ``describe(result)`` is the line printed for a finished job."""
    import traceback

    for job in jobs:
        path = path_of(job)
        if path.exists():
            continue
        try:
            result = run(job)
        except Exception:  # a run that fails is reported, not hidden
            traceback.print_exc()
            continue
        finally:
            if after is not None:
                after()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))
        print(describe(result), flush=True)


def clear_caches_if_crowded(share: float = 0.5) -> None:
    """Clear JAX's compilation caches when this process holds over ``share`` of the memory maps Linux allows one
    process (``vm.max_map_count``, 65,530 by default). Every compiled executable keeps its own maps, and a process
    running many data sets of different shapes gathers about 1,500 a run: two pipeline.py processes here stopped
    after about 44 runs each with LLVM's "Unable to allocate section memory" and a segfault. Elsewhere (no /proc),
    nothing."""
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            limit = int(f.read())
        with open("/proc/self/maps") as f:
            held = sum(1 for _ in f)
    except OSError:
        return
    if held > share * limit:
        import jax

        jax.clear_caches()


def run_datasets_and_seeds(args, folder: Path, one_run, describe) -> None:
    """:func:`run_missing` over every data set and seed of ``args`` (``--datasets``, ``--seeds``): each job is
    ``one_run(name, seed, args.data_dir, tmp)`` (``tmp`` a folder for files written for the runs) and is stored
    in ``folder`` as ``<name with / as _>-<seed>.json``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(name, int(seed)) for name in args.datasets.split(",") for seed in args.seeds.split(",")]
        run_missing(jobs, lambda job: folder / f"{job[0].replace('/', '_')}-{job[1]}.json",
                    lambda job: one_run(*job, args.data_dir, Path(tmp)), describe)


def stored_runs(folder: Path, pattern: str = "*.json") -> list[dict]:
    """The results stored by :func:`run_missing` under ``folder``, in file-name order."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob(pattern))]


def report_stored(folder: Path, out: str, report) -> None:
    """Write ``report(rows)`` (Markdown lines) over the results stored under ``folder`` to ``out``; stop with a
    message when none is stored."""
    rows = stored_runs(folder)
    if not rows:
        raise SystemExit(f"no stored runs under {folder} to report")
    write_markdown(out, report(rows))


def stored_run_parser(doc: str, datasets, out: str, report_help: str = "only write the report from the stored runs"):
    """The command line of a stored-run benchmark: ``--data-dir``, ``--datasets``, ``--report``, ``--out`` (the
    script adds what it varies besides: seeds, splits, variants)."""
    import argparse
    import os

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--datasets", default=",".join(datasets))
    p.add_argument("--report", action="store_true", help=report_help)
    p.add_argument("--out", default=out)
    return p
