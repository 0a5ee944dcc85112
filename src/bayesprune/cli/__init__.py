"""The ``bayesprune`` command line: one function per command, dispatched through ``COMMANDS``; options derived
from the settings declarations (:mod:`bayesprune.cli.options`), help texts in :mod:`bayesprune.cli.help`.

Every user mistake ends with exit status 2 and one line on stderr that says what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from bayesprune import __version__
from bayesprune.cli.help import EXPORT_HELP, MAIN_HELP, PREDICT_HELP, REPRODUCE_HELP, RUN_HELP
from bayesprune.cli.options import (
    EXIT_USAGE,
    LazyParser,
    Parser,
    add_declared_options,
    add_sampler_options,
    csv_list,
    parse_float,
    parse_int,
)
from bayesprune.errors import BayesPruneError, OptionError
from bayesprune.options import declared

# The settings (and through them the samplers, JAX and BlackJAX) are imported where a command needs them, not
# here: `bayesprune --help` and the commands that do not sample start in a fraction of a second
# (benchmarks/startup.py).
if TYPE_CHECKING:
    from bayesprune.settings import RunConfig


def flags(command: str) -> dict[str, str]:
    """Python parameter name -> flag, for every option of ``command`` (errors name the flag the user typed).

    A parameter is found by its option's destination (``criteria`` -> ``--criterion`` in ``run``) or by the
    flag's own name (``rate`` -> ``--rate``)."""
    out: dict[str, str] = {}
    for action in command_parser(command)._actions:
        if action.option_strings:
            flag = max(action.option_strings, key=len)
            out.setdefault(action.dest, flag)
            out.setdefault(flag.lstrip("-").replace("-", "_"), flag)
    return out


def _run_options(r: argparse.ArgumentParser) -> None:
    from bayesprune.settings import RunConfig

    add_declared_options(r, RunConfig)
    # the flag of the releases before --missing, kept so that their commands still run
    r.add_argument("--drop-missing", dest="missing", action="store_const", const="drop", default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)
    add_sampler_options(r)
    g = r.add_argument_group("output files")
    g.add_argument("--out", help="write metrics.json, posteriors, report.md and figures here")
    g.add_argument("--no-figures", action="store_true")
    g.add_argument("--quiet", action="store_true",
                   help="no progress bars and no notes before the work (progress has a bar for each stage: "
                   "the starts' optimisation, the sampling, each compact model's fine-tuning and resampling; where "
                   "stderr is not a terminal, a log file or a pipe, a line where each stage starts and ends and one "
                   "per quarter of a stage that runs longer, instead of a bar)")


def _reproduce_options(rp: argparse.ArgumentParser) -> None:
    from bayesprune.settings import ExecutorSpec, GridSpec

    rp.add_argument("--datasets", type=csv_list(str),
                    help="comma-separated names (default: the paper's seven, or those of --config)")
    rp.add_argument("--config", action="append", metavar="FILE.toml",
                    help="add a data set described by a TOML config (repeatable); see docs/REPRODUCTION.md")
    add_declared_options(rp, GridSpec)
    add_declared_options(rp, ExecutorSpec)
    rp.add_argument("--out", default="runs/reproduce", help="grid folder (default runs/reproduce)")
    rp.add_argument("--smoke", action="store_true",
                    help="the same grid at tiny sizes (2 runs, 400 samples, 200 resampling): checks it all works")
    rp.add_argument("--no-figures", action="store_true")
    rp.add_argument("--quiet", action="store_true", help="no progress bars")


def command_parser(command: str, parser: argparse.ArgumentParser | None = None) -> LazyParser:
    """The parser of one command, with all its options (of ``parser``, default a new :func:`build_parser`)."""
    parser = parser or build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command].populate()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line. The options of ``run`` and ``reproduce`` are added when that command is parsed or
    its help shown (:class:`~bayesprune.cli.options.LazyParser`); :func:`command_parser` adds them at once."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = Parser(prog="bayesprune", description=MAIN_HELP, formatter_class=fmt)
    p.add_argument("--version", action="version", version=f"bayesprune {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=LazyParser)

    sub.add_parser("run", help="one data set end to end (default: iris, seconds)", description=RUN_HELP,
                   formatter_class=fmt, populate=_run_options)
    sub.add_parser("reproduce", help="the paper's grid: data sets x criteria x rates x runs",
                   formatter_class=fmt, description=REPRODUCE_HELP, populate=_reproduce_options)

    rr = sub.add_parser("report", help="tables and figures of a grid folder, from its saved runs",
                        formatter_class=fmt, description="Rebuild report.md, results.csv and figures of a "
                        "'bayesprune reproduce' folder from its run folders (nothing is resampled).")
    rr.add_argument("dir", help="the --out folder of 'bayesprune reproduce'")
    rr.add_argument("--no-figures", action="store_true")
    rr.add_argument("--to", metavar="FILE.md", help="write the report here (figures beside it), not DIR/report.md")
    rr.add_argument("--title", help="report title")

    pr = sub.add_parser("predict", help="predict a CSV with a compact model (intervals / class probabilities)",
                        formatter_class=fmt, description=PREDICT_HELP)
    pr.add_argument("model", help="a model.bpz written by 'bayesprune run --out DIR'")
    pr.add_argument("--csv", required=True, help="inputs: a header naming the model's features, or no header "
                    "and exactly the model's number of columns")
    pr.add_argument("--out", help="write predictions to this CSV (default: standard output)")
    pr.add_argument("--interval", type=parse_float, default=0.9, help="central prediction interval (regression)")

    ex = sub.add_parser("export", help="write a compact model as ONNX, to run without bayesprune or JAX",
                        formatter_class=fmt, description=EXPORT_HELP)
    ex.add_argument("model", help="a model.bpz written by 'bayesprune run --out DIR'")
    ex.add_argument("--format", choices=["onnx"], default="onnx", help="exchange format (ONNX, opset 17)")
    ex.add_argument("-o", "--out", required=True, help="the file to write, e.g. model.onnx")
    ex.add_argument("--draws", type=parse_int, help="keep this many of the model's draws, evenly spaced "
                    "(default: all); fewer draws, smaller and faster, coarser predictive")
    ex.add_argument("--with-draws", action="store_true", help="also output every draw's prediction, 'draws' "
                    "[draws, rows, outputs]")
    ex.add_argument("--interval", type=parse_float, default=0.9, help="level of 'lower'/'upper' (regression)")

    d = sub.add_parser("data", help="list | verify | fetch the named data sets", formatter_class=fmt,
                       description="The paper's seven data sets and scikit-learn's embedded ones.")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", parser_class=Parser)
    dl = dsub.add_parser("list", help="every data set and whether it is available")
    dv = dsub.add_parser("verify", help="check SHA-256 sums of the paper's files")
    df = dsub.add_parser("fetch", help="download a paper data set into the cache, verifying checksums")
    df.add_argument("name", nargs="+", help="data set name(s), or 'all'")
    df.add_argument("--url", help="archive to download (default: the authors' data.zip)")
    df.add_argument("--dest", help="folder to write into (default: the user cache)")
    for sp in (dl, dv):
        sp.add_argument("--data-dir", help="folder holding the files (or set BAYESPRUNE_DATA)")
    return p


def _given(args, cls) -> dict:
    """The declared settings of ``cls`` that were given on the command line."""
    return {f.name: getattr(args, f.name) for f, _ in declared(cls) if hasattr(args, f.name)}


def run_config(args) -> RunConfig:
    """The run configuration of ``bayesprune run``'s options (only what was given; the rest are defaults)."""
    from bayesprune.samplers.registry import SETTINGS, settings_class, settings_for
    from bayesprune.samplers.sizing import FULL_BATCH_DEFAULT
    from bayesprune.settings import AUTO, RunConfig

    given = _given(args, RunConfig)
    if given.get("csv") and not given.get("target"):
        _missing_target(given["csv"])
    sampler = given.get("sampler", RunConfig.sampler)
    names = {f.name for cls in SETTINGS.values() for f, _ in declared(cls)}
    sampler_values = {n: getattr(args, n) for n in names if hasattr(args, n)}
    if sampler == AUTO and sampler_values and "sampler" not in given:
        # settings of the full-batch default without --sampler: that sampler is meant (auto would pick it on
        # small data, and its settings would be lost on large data)
        full_batch = {f.name for f, _ in declared(settings_class(FULL_BATCH_DEFAULT))}
        if set(sampler_values) <= full_batch:
            sampler = given["sampler"] = FULL_BATCH_DEFAULT
    if sampler == AUTO:
        if sampler_values:
            raise OptionError.about(next(iter(sampler_values)), "is a setting of a named sampler: with --sampler "
                                    "auto (the default) the chosen sampler's defaults apply; name the sampler to "
                                    "set it (--sampler ...)")
        return RunConfig(**given).validate()
    return RunConfig(**given, sampler_settings=settings_for(sampler, sampler_values)).validate()


def _missing_target(csv: str) -> None:
    """``--csv`` without ``--target``: the error names the file's columns, so the fix can be typed from it (the
    file is read as the run would read it; a file that cannot be read gives that error instead)."""
    from bayesprune.data.table import read_table

    columns = [str(c) for c in read_table(csv).columns]
    shown = ", ".join(columns) if len(columns) <= 12 else ", ".join(columns[:12]) + f", ... ({len(columns)} in all)"
    raise OptionError.about("target", f"is needed with --csv: the column of {csv} to predict, one of {shown} "
                            f"(for example --target {columns[-1]})")


def compact_line(criterion: str, rate: float, c) -> str:
    """The line ``run --out`` prints about a compact model file (``c``: its
    :class:`~bayesprune.evaluation.records.CompactInfo`)."""
    # nothing pruned (the rate guard kept the full network, or --rate 0): the file's header and noise variances
    # make it a little larger than the bare draws, so no ratio that reads as "bigger than dense"
    size = (f"({c.bytes_ratio:.0%} of dense)" if c.n_params_kept < c.n_params
            else "(nothing pruned: the full network's draws)")
    return (f"compact model {criterion} {rate:.0%}: {c.n_params_kept}/{c.n_params} parameters, "
            f"{c.describe_widths()}, {c.bytes_compact:,} bytes {size}")


def _cmd_run(args) -> int:
    from rich.console import Console

    from bayesprune.experiments.runner import run, write_outputs
    from bayesprune.io.atomic import staged_folder
    from bayesprune.progress import console, reporter
    from bayesprune.report.markdown import print_summary, write_report

    cfg = run_config(args)
    with reporter(False if args.quiet else None) as rep:
        outcome = run(cfg, reporter=rep)
    out_console = Console(width=None if sys.stdout.isatty() else 120)
    out_console.print(f"[bold]{outcome.dataset.summary()}[/bold]")
    print_summary(outcome.view, out_console, notes=args.quiet)  # else printed before the work started
    if args.out:
        with staged_folder(args.out) as stage:
            written = write_outputs(outcome, stage)
            written += write_report(outcome.view, stage, with_figures=not args.no_figures)
        for cell in outcome.cells:
            out_console.print(compact_line(cell.criterion, cell.rate, cell.record.compact))
        console.print(f"wrote {len(written)} files to {args.out} (report: {os.path.join(args.out, 'report.md')})")
    return 0


def _cmd_reproduce(args) -> int:
    from bayesprune.experiments.config import select_configs
    from bayesprune.experiments.executors import executor_for
    from bayesprune.experiments.grid import check_existing, execute, smoke
    from bayesprune.experiments.runner import load_data
    from bayesprune.progress import console
    from bayesprune.report.grid import build_report
    from bayesprune.settings import ExecutorSpec, GridSpec

    configs = select_configs(list(args.datasets) if args.datasets else None, args.config)
    spec = GridSpec(configs=tuple(configs), **_given(args, GridSpec))
    if args.smoke:
        spec = smoke(spec)
    executor = ExecutorSpec(**_given(args, ExecutorSpec))
    executor_for(executor).check()  # Ray missing: one line now, not after the first data set
    for cfg in configs:  # fail fast on a bad option or missing data, before hours of sampling
        load_data(spec.run_config(cfg, 0))
    total = len(configs) * spec.runs
    show = not args.quiet

    def on_run(p) -> None:
        if not show:
            return
        if p.digest is None:
            console.print(f"[{p.done}/{p.total}] {p.dataset} run {p.run}: already done, skipped")
            return
        d = p.digest
        best = ", ".join(f"{c} {r}: {v:.3f}" for c, r, v in d.cells[:3])
        console.print(f"[{p.done}/{p.total}] {p.dataset} run {p.run}: {p.seconds:.1f} s, full {d.metric} "
                      f"{d.full:.3f}; resampled {best}{' ...' if len(d.cells) > 3 else ''}")

    done = check_existing(spec, args.out)
    console.print(f"grid: {len(configs)} data sets x {spec.runs} runs = {total} runs of {spec.samples:,} "
                  f"{spec.sampler} samples, {len(spec.criteria)} criteria x {len(spec.rates)} rates each "
                  f"-> {args.out}" + (f" ({done} already done)" if done else "")
                  + (f", as Ray tasks ({executor.ray_address or 'local Ray instance'})"
                     if executor.executor == "ray" else ""))
    summary = execute(spec, args.out, executor=executor, on_run=on_run,
                      command="bayesprune " + " ".join(sys.argv[1:]))
    written = build_report(args.out, figures=not args.no_figures)
    console.print(f"{summary['ran']} runs in {summary['seconds']:.0f} s ({summary['skipped']} already done); "
                  f"results: {os.path.join(args.out, 'results.csv')}, report: {written[0]}")
    return 0


def _cmd_report(args) -> int:
    from bayesprune.report.grid import build_report

    written = build_report(args.dir, figures=not args.no_figures, dest=args.to, title=args.title)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _cmd_predict(args) -> int:
    from bayesprune.io.compact import load_model
    from bayesprune.io.predictions import prediction_table, read_rows, write_predictions

    if not 0.0 < args.interval < 1.0:
        raise OptionError(f"--interval {args.interval} must be between 0 and 1, e.g. 0.9")
    model = load_model(args.model)
    X, labels = read_rows(args.csv, model.raw_features, model.categories, model.fills)
    result = model.predict(X, interval=args.interval)
    header, rows = prediction_table(result, model.task, model.class_names, args.interval, labels)
    write_predictions(header, rows, args.out)
    if args.out:
        print(f"wrote {len(rows)} predictions to {args.out}", file=sys.stderr)
    outside = int(model.outside_range(X).sum())
    if outside:  # the model clips inputs to its clip range: say where that made a prediction
        print(f"{outside} of {len(rows)} rows have an input more than half the training rows' range past it, "
              f"clipped there: their predictions are those at the clip range's edge", file=sys.stderr)
    return 0


def _cmd_export(args) -> int:
    from bayesprune.io.onnx_export import export_onnx

    path = export_onnx(args.model, args.out, draws=args.draws, include_draws=args.with_draws,
                       interval=args.interval)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


def _data_list(args) -> int:
    from bayesprune.data import all_datasets, resolve_data_dir
    from bayesprune.data.datasets import dataset_file
    from bayesprune.data.standard import uci_folders

    ddir = resolve_data_dir(args.data_dir)
    print(f"data directory: {ddir if ddir else '(none; use --data-dir or BAYESPRUNE_DATA)'}")
    print(f"{'name':<30} {'task':<15} {'available':<22} description")
    for name, info in all_datasets().items():
        if name.startswith("sklearn:"):
            continue
        if info.source == "sklearn":
            status = "yes (embedded)"
        elif dataset_file(info, ddir) is not None:
            status = "yes"
        elif info.fallback:
            status = "embedded copy only"
        else:
            status = "no (data fetch)"
        print(f"{name:<30} {info.task:<15} {status:<22} {info.description}")
    for name in uci_folders(ddir):  # the UCI regression sets found in the data directory
        print(f"{name:<30} {'regression':<15} {'yes':<22} UCI regression set on its fixed splits (--split K)")
    return 0


def _data_verify(args) -> int:
    from bayesprune.data import all_datasets, resolve_data_dir
    from bayesprune.data.download import verify

    ddir = resolve_data_dir(args.data_dir)
    if ddir is None:
        raise OptionError("no data directory: pass --data-dir DIR or set BAYESPRUNE_DATA")
    bad = 0
    for info in all_datasets().values():
        if info.source != "file":
            continue
        for rel, status in verify(info, ddir):
            print(f"{status:<9} {rel}")
            bad += status != "ok"
    if bad:
        print(f"{bad} file(s) missing or not matching their published SHA-256", file=sys.stderr)
        return 1
    print("all files match their published SHA-256")
    return 0


def _data_fetch(args) -> int:
    from bayesprune.data import PAPER_DATASETS
    from bayesprune.data.download import fetch

    for name in list(PAPER_DATASETS) if args.name == ["all"] else args.name:
        dest = fetch(name, url=args.url, dest=args.dest)
        print(f"fetched {name} into {dest} (checksums verified)")
    return 0


DATA_ACTIONS = {"list": _data_list, "verify": _data_verify, "fetch": _data_fetch}


def _cmd_data(args) -> int:
    if args.data_command is None:
        raise OptionError("say what to do: bayesprune data " + " | ".join(DATA_ACTIONS) + " NAME")
    return DATA_ACTIONS[args.data_command](args)


COMMANDS = {"run": _cmd_run, "reproduce": _cmd_reproduce, "report": _cmd_report, "predict": _cmd_predict,
            "export": _cmd_export, "data": _cmd_data}
COMPILING = ("run", "reproduce")  # commands that sample, and keep compiled samplers on disk


def enable_compilation_cache() -> None:
    """Keep compiled samplers on disk so a second run of the same shapes skips compilation.

    Stored under the user cache (``~/.cache/bayesprune/jax`` on Linux, or ``$BAYESPRUNE_CACHE/jax``); an
    explicit ``JAX_COMPILATION_CACHE_DIR`` wins, and ``BAYESPRUNE_JIT_CACHE=0`` turns it off. Every compiled
    function is kept, not only those that took JAX's default 1 s to compile: most of a run's compilations take
    0.1-0.5 s each (the default iris run's second time: 24 s with JAX's threshold, 20 s with none; the cache
    holds 2.4 MB after it); ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS`` sets another threshold.
    """
    if os.environ.get("BAYESPRUNE_JIT_CACHE", "1") == "0" or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    import jax

    from bayesprune.data.download import cache_dir

    path = str(cache_dir().parent / "jax")
    jax.config.update("jax_compilation_cache_dir", path)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = path  # and in the processes started from here (local Ray workers)


def _as_cli_message(exc: BayesPruneError, command: str) -> str:
    """The error's line, with a parameter's Python name replaced by its command-line flag."""
    if isinstance(exc, OptionError) and exc.param and exc.detail is not None:
        flag = flags(command).get(exc.param)
        if flag:
            return f"{flag} {exc.detail}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command in COMPILING:
        enable_compilation_cache()
    try:
        return COMMANDS[args.command](args)
    except BayesPruneError as exc:
        msg = " ".join(_as_cli_message(exc, args.command).split())
        sys.stderr.write(f"bayesprune {args.command}: error: {msg}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("bayesprune: interrupted; outputs of the run in progress were not written\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
