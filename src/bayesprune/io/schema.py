"""The metrics.json schema (docs/OUTPUTS.md) and a validator other tools can reuse."""

from __future__ import annotations

from numbers import Real

from bayesprune.evaluation.records import MAIN_METRIC, STAGES, main_metric, uncertainty_metrics

TOP = {"dataset": str, "task": str, "sampler": str, "criterion": str, "rate": Real, "seed": int,
       "n_params": int, "n_params_kept": int, "stages": dict}
STAGE_COMMON = ("nll", "rhat_fn_max", "ess_fn_min", "acceptance_rate", "seconds")


def validate_metrics(obj: dict) -> list[str]:
    """Problems with a metrics.json object; an empty list means it follows the schema."""
    problems: list[str] = []
    for key, kind in TOP.items():
        if key not in obj:
            problems.append(f"missing top-level key '{key}'")
        elif not isinstance(obj[key], kind) or isinstance(obj[key], bool):
            problems.append(f"'{key}' should be {kind.__name__}, got {type(obj[key]).__name__}")
    task = obj.get("task")
    if task not in MAIN_METRIC:
        return problems + [f"task should be regression or classification, got {task!r}"]
    main = main_metric(task)
    for stage in STAGES:
        m = obj.get("stages", {}).get(stage)
        if not isinstance(m, dict):
            problems.append(f"missing stage '{stage}'")
            continue
        for key in (*STAGE_COMMON, main, *uncertainty_metrics(task)):
            if not isinstance(m.get(key), Real) or isinstance(m.get(key), bool):
                problems.append(f"stages.{stage}.{key} should be a number, got {m.get(key)!r}")
        pe = m.get("point_estimate")
        if not isinstance(pe, dict) or not isinstance(pe.get(main), Real):
            problems.append(f"stages.{stage}.point_estimate.{main} should be a number")
    return problems
