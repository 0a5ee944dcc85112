"""The ``bayesprune`` command line.

Every user mistake ends with exit status 2 and one line on stderr that says what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing

from bayesprune import __version__
from bayesprune.errors import BayesPruneError, OptionError
from bayesprune.options import Option, base_type, declared, flag_of
from bayesprune.samplers.registry import SETTINGS, settings_for
from bayesprune.settings import AUTO, ExecutorSpec, GridSpec, RunConfig

EXIT_USAGE = 2

MAIN_HELP = """\
Compact Bayesian neural networks by pruned MCMC sampling.

bayesprune samples the posterior of a Bayesian neural network, prunes the parameters whose posterior says
they matter least (signal-to-noise STN, signal-plus-noise SPN, magnitude, or random), resamples the pruned
network on its remaining parameters, and reports accuracy and uncertainty before and after pruning
(Deo, Sisson, Webster, Chandra 2025).

examples:
  bayesprune run                                  iris (embedded), MCLMC, STN at 75%, in seconds
  bayesprune run --dataset ionosphere --data-dir ../shared/data --rate 0.5,0.75,0.9 --out runs/iono
  bayesprune run --csv core.csv --target Species --features Bulk,Porosity,Resistivity --out runs/core
  bayesprune run --sampler lgmh --resample-samples 1000   the paper's sampler and resampling length
  bayesprune predict runs/core/model.bpz --csv new_cores.csv --out predictions.csv
  bayesprune reproduce --data-dir ../shared/data --out runs/paper   the paper's grid, then: report runs/paper
  bayesprune data list --data-dir ../shared/data
"""

RUN_HELP = """\
Sample -> prune -> resample -> evaluate on one data set, and print a summary table of the full, pruned
(no resampling) and resampled models. With --out DIR it also writes metrics.json, the posterior draws
(ArviZ NetCDF), report.md and figures. Several criteria or rates (comma-separated) sweep them all and share
one full-model sample.

defaults: MCLMC (BlackJAX's microcanonical Langevin MC, step size, L and preconditioner tuned in warm-up), each
of 4 chains started from its own Adam-optimised network, 40,000 steps with 50% burn-in (chosen by measurement:
benchmarks/default_sampler.py), prior N(0, 25), STN pruning of 75% of the parameters, 20,000 resampling steps.
When the chains disagree the summary says so and what to change; --until-converged SECONDS samples on until
they agree. The paper's set-up is --sampler lgmh (lr 0.01, step 0.025, eta step
0.2, l_prob 0.5; 40,000 samples, 20,000 resampling steps by default) with --resample-samples 1000.
Large data: full-batch sampling costs rows x parameters per gradient; run estimates that before it starts and
says so when it is long. --sampler sghmc (or sgld) samples on minibatches (--batch-size), --sampler auto takes
SGHMC when MCLMC would take more than 10 minutes.
"""


REPRODUCE_HELP = """\
The paper's experiment grid: for every data set (the paper's seven by default, each from its TOML config),
--runs independent runs of --samples steps (one chain each, as in the paper), then prune at every criterion x
rate and resample. Each run writes its own folder under OUT/runs/; a finished run is skipped when the command
is run again, so an interrupted grid resumes where it stopped. OUT/results.csv holds every number in tidy form
(dataset, run, seed, sampler, criterion, rate, requested, stage, metric, value) and OUT/report.md the tables
and figures. Runs execute one after another here, or as Ray tasks (--executor ray): on a local Ray instance that
runs as many at once as there are CPUs, or on a cluster (--ray-address); the results are the same.

defaults are the paper's: 5 runs x 50,000 LG-MH samples (50% burn-in), STN/SPN/random at 25/50/75%,
1,000 resampling steps.

examples:
  bayesprune reproduce --data-dir ../shared/data --smoke --out runs/smoke
  bayesprune reproduce --data-dir ../shared/data --out runs/paper
  bayesprune reproduce --data-dir ../shared/data --criteria stn,spn,random,magnitude --rates 0.9,0.95
  bayesprune reproduce --config my_core.toml --out runs/core
  bayesprune reproduce --data-dir ../shared/data --executor ray --out runs/paper      # every CPU at once
  bayesprune reproduce --data-dir /shared/data --executor ray --ray-address auto --out /shared/runs/paper
  bayesprune report runs/paper
"""

PREDICT_HELP = """\
Predict with a compact model: the posterior predictive over the model's stored draws. Regression gives the
mean, sd and a central interval in the target's original units; classification gives the predicted class, the
sd over draws of its probability, and one probability column per class.

example:
  bayesprune run --dataset ionosphere --data-dir ../shared/data --structured --out runs/iono
  bayesprune predict runs/iono/model.bpz --csv new_rows.csv --out predictions.csv
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (exit 2) instead of usage + message."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


def _csv_list(kind):
    kinds = typing.get_args(kind) or (kind,)  # float | str: a number where it parses as one, else the word

    def one(text: str):
        for k in kinds:
            try:
                return k(text)
            except ValueError:
                continue
        raise ValueError(text)

    def parse(text: str):
        try:
            return tuple(one(t.strip()) for t in text.split(",") if t.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of "
                                             f"{' or '.join(k.__name__ for k in kinds)}") from None

    return parse


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


_PARSERS = {int: _int, float: _float, str: str}


def _show(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _argument(group, name: str, hint, opt: Option, default, default_text: str | None = None) -> None:
    """Add the command-line option of a declared setting: its type from the field's type, its help and default
    from the declaration. Values are parsed here and checked by the settings (one check per setting)."""
    base = base_type(hint)
    flag = flag_of(name, opt)
    kw: dict = {"dest": name, "default": argparse.SUPPRESS}
    help_text = opt.help.replace("%", "%%")
    if base is bool:
        kw["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
    elif typing.get_origin(base) is tuple:
        kw["type"] = _csv_list(typing.get_args(base)[0])
        word = flag.lstrip("-").upper().replace("-", "_")
        kw["metavar"] = f"{word}[,{word}...]"
    else:
        kw["type"] = _PARSERS[base]
    if opt.choices is not None:
        kw["metavar"] = "{" + ",".join(str(c) for c in opt.choices if c is not None) + "}"
    if default_text is None and default is not None and base is not bool:
        default_text = _show(default)
    if default_text:
        help_text += f" (default {default_text})"
    group.add_argument(flag, help=help_text, **kw)


def add_declared_options(parser, cls) -> None:
    """Add one option per declared setting of ``cls`` (grouped by their declared group)."""
    hints = typing.get_type_hints(cls)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f, opt in declared(cls):
        if opt.flag is None:
            continue
        group = groups.get(opt.group)
        if group is None:
            group = groups[opt.group] = parser.add_argument_group(opt.group) if opt.group else parser
        _argument(group, f.name, hints[f.name], opt, f.default)


def add_sampler_options(parser) -> None:
    """One option per sampler setting, over every sampler; it applies to the chosen --sampler."""
    group = parser.add_argument_group("sampler settings (each applies to the samplers named in its help, to "
                                      "sampling and resampling)")
    seen: dict[str, tuple] = {}
    for sampler, cls in SETTINGS.items():
        hints = typing.get_type_hints(cls)
        for f, opt in declared(cls):
            entry = seen.setdefault(f.name, (hints[f.name], opt, f.default, []))
            entry[3].append(f"{sampler} {f.default}")
    for name, (hint, opt, default, defaults) in seen.items():
        _argument(group, name, hint, opt, default, ", ".join(defaults))


def flags(command: str) -> dict[str, str]:
    """Python parameter name -> flag, for every option of ``command`` (errors name the flag the user typed).

    A parameter is found by its option's destination (``criteria`` -> ``--criterion`` in ``run``) or by the
    flag's own name (``rate`` -> ``--rate``)."""
    out: dict[str, str] = {}
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    for action in sub._actions:
        if action.option_strings:
            flag = max(action.option_strings, key=len)
            out.setdefault(action.dest, flag)
            out.setdefault(flag.lstrip("-").replace("-", "_"), flag)
    return out


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(prog="bayesprune", description=MAIN_HELP, formatter_class=fmt)
    p.add_argument("--version", action="version", version=f"bayesprune {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("run", help="one data set end to end (default: iris, seconds)", description=RUN_HELP,
                       formatter_class=fmt)
    add_declared_options(r, RunConfig)
    add_sampler_options(r)
    g = r.add_argument_group("output files")
    g.add_argument("--out", help="write metrics.json, posteriors, report.md and figures here")
    g.add_argument("--no-figures", action="store_true")
    g.add_argument("--quiet", action="store_true", help="no progress bars")

    rp = sub.add_parser("reproduce", help="the paper's grid: data sets x criteria x rates x runs",
                        formatter_class=fmt, description=REPRODUCE_HELP)
    rp.add_argument("--datasets", type=_csv_list(str),
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
    pr.add_argument("--interval", type=_float, default=0.9, help="central prediction interval (regression)")

    d = sub.add_parser("data", help="list | verify | fetch the named data sets", formatter_class=fmt,
                       description="The paper's seven data sets and scikit-learn's embedded ones.")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
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
    given = _given(args, RunConfig)
    sampler = given.get("sampler", RunConfig.sampler)
    names = {f.name for cls in SETTINGS.values() for f, _ in declared(cls)}
    sampler_values = {n: getattr(args, n) for n in names if hasattr(args, n)}
    if sampler == AUTO:
        if sampler_values:
            raise OptionError.about(next(iter(sampler_values)), "is a setting of a named sampler: with --sampler "
                                    "auto the chosen sampler's defaults apply (name the sampler to set it)")
        return RunConfig(**given).validate()
    return RunConfig(**given, sampler_settings=settings_for(sampler, sampler_values)).validate()


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
    print_summary(outcome.view, out_console)
    if args.out:
        with staged_folder(args.out) as stage:
            written = write_outputs(outcome, stage)
            written += write_report(outcome.view, stage, with_figures=not args.no_figures)
        for cell in outcome.cells:
            c = cell.record.compact
            out_console.print(
                f"compact model {cell.criterion} {cell.rate:.0%}: {c.n_params_kept}/{c.n_params} parameters, "
                f"{c.describe_widths()}, {c.bytes_compact:,} bytes "
                f"({c.bytes_ratio:.0%} of dense)")
        console.print(f"wrote {len(written)} files to {args.out} (report: {os.path.join(args.out, 'report.md')})")
    return 0


def _cmd_reproduce(args) -> int:
    from bayesprune.experiments.config import select_configs
    from bayesprune.experiments.executors import executor_for
    from bayesprune.experiments.grid import check_existing, execute, smoke
    from bayesprune.experiments.runner import load_data
    from bayesprune.progress import console
    from bayesprune.report.grid import build_report

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
    import csv as csvmod

    import numpy as np

    from bayesprune.data.table import numeric_column, read_table
    from bayesprune.io.compact import load_model

    if not 0.0 < args.interval < 1.0:
        raise OptionError(f"--interval {args.interval} must be between 0 and 1, e.g. 0.9")
    model = load_model(args.model)
    frame = read_table(args.csv)
    names = model.feature_names
    cols = list(frame.columns)
    if frame.attrs.get("row_offset", 1) == 2:  # has a header
        missing = [f for f in names if f not in cols]
        if missing:
            raise OptionError(f"{args.csv}: missing feature column(s) {', '.join(missing)}; the model needs "
                              f"{', '.join(names)}")
        use = names
    else:
        if len(cols) != len(names):
            raise OptionError(f"{args.csv}: {len(cols)} columns but the model needs {len(names)} features "
                              f"({', '.join(names)}); add a header naming them or fix the columns")
        use = cols
    X = np.column_stack([numeric_column(frame, c) for c in use])
    result = model.predict(X, interval=args.interval)
    if model.task == "regression":
        pct = f"{args.interval:.0%}"
        header = ["mean", "sd", f"lower_{pct}", f"upper_{pct}"]
        rows = zip(result["mean"], result["sd"], result["lower"], result["upper"], strict=True)
        rows = [[f"{v:.6g}" for v in r] for r in rows]
    else:
        header = ["class", "sd"] + [f"p_{c}" for c in model.class_names]
        rows = [[c, f"{sd:.4f}", *[f"{p:.6f}" for p in probs]]
                for c, sd, probs in zip(result["class"], result["sd"], result["probabilities"], strict=True)]
    if args.out:
        from bayesprune.io.atomic import atomic_path

        with atomic_path(args.out) as tmp, open(tmp, "w", newline="") as fh:
            w = csvmod.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        print(f"wrote {len(rows)} predictions to {args.out}", file=sys.stderr)
    else:
        w = csvmod.writer(sys.stdout)
        w.writerow(header)
        w.writerows(rows)
    return 0


def _cmd_data(args) -> int:
    from bayesprune.data import all_datasets, resolve_data_dir
    from bayesprune.data.datasets import dataset_file
    from bayesprune.data.download import fetch, verify

    if args.data_command is None:
        raise OptionError("say what to do: bayesprune data list | verify | fetch NAME")
    if args.data_command == "list":
        ddir = resolve_data_dir(args.data_dir)
        print(f"data directory: {ddir if ddir else '(none; use --data-dir or BAYESPRUNE_DATA)'}")
        print(f"{'name':<24} {'task':<15} {'available':<22} description")
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
            print(f"{name:<24} {info.task:<15} {status:<22} {info.description}")
        return 0
    if args.data_command == "verify":
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
    names = args.name
    if names == ["all"]:
        from bayesprune.data import PAPER_DATASETS

        names = list(PAPER_DATASETS)
    for name in names:
        dest = fetch(name, url=args.url, dest=args.dest)
        print(f"fetched {name} into {dest} (checksums verified)")
    return 0


def enable_compilation_cache() -> None:
    """Keep compiled samplers on disk so a second run of the same shapes skips compilation.

    Stored under the user cache (``~/.cache/bayesprune/jax`` on Linux, or ``$BAYESPRUNE_CACHE/jax``); an
    explicit ``JAX_COMPILATION_CACHE_DIR`` wins, and ``BAYESPRUNE_JIT_CACHE=0`` turns it off.
    """
    if os.environ.get("BAYESPRUNE_JIT_CACHE", "1") == "0" or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    import jax

    from bayesprune.data.download import cache_dir

    path = str(cache_dir().parent / "jax")
    jax.config.update("jax_compilation_cache_dir", path)
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
    if args.command in ("run", "reproduce"):
        enable_compilation_cache()
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "predict":
            return _cmd_predict(args)
        if args.command == "reproduce":
            return _cmd_reproduce(args)
        if args.command == "report":
            return _cmd_report(args)
    except BayesPruneError as exc:
        msg = " ".join(_as_cli_message(exc, args.command).split())
        sys.stderr.write(f"bayesprune {args.command}: error: {msg}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("bayesprune: interrupted; outputs of the run in progress were not written\n")
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
