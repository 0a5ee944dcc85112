"""Where independent units of work execute: here, one after another (``local``), or as Ray tasks (``ray``).

An executor maps a module-level function over units and yields each result as it completes. The function does its
own writing (a grid's run writes its folder atomically, :mod:`bayesprune.io.grid`), so what reaches the caller is a
small digest, and a unit lost with its worker loses nothing written by the others.

Ray (an optional extra, ``pip install "bayesprune[ray]"``) is the scheduler: each unit is a task that declares its
CPUs and GPU share, Ray runs as many at once as the resources allow, on this machine (a local instance started
here and stopped at the end) or on a cluster (``--ray-address``), and reruns a unit whose worker process died
(``--ray-retries``). On a cluster every node needs bayesprune installed and the data and output folders at the
same paths (a shared file system). Nothing here is written by hand that Ray does: only the translation of
settings into task options and of a task's error back into the error it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bayesprune.errors import OptionError
from bayesprune.settings import ExecutorSpec

RAY_MISSING = "ray needs Ray: pip install 'bayesprune[ray]' (or pip install ray), or use the local executor"


class LocalExecutor:
    """One unit after another, in this process (the default: nothing to install, progress bars shown)."""

    name = "local"
    concurrent = False  # units run one at a time, in the order given

    def check(self) -> None:
        """Nothing to check: this process can run the units."""

    def map(self, fn: Callable[..., Any], units: Iterable[Any], *, in_process: dict[str, Any] | None = None
            ) -> Iterator[Any]:
        """``fn(unit, **in_process)`` for every unit, in order. ``in_process``: arguments that only make sense in
        this process (a progress reporter)."""
        for unit in units:
            yield fn(unit, **(in_process or {}))


class RayExecutor:
    """Every unit a Ray task; results in the order they complete."""

    name = "ray"
    concurrent = True  # units run at once, as resources allow

    def __init__(self, spec: ExecutorSpec):
        self.spec = spec

    def check(self):
        """Ray's module; a one-line error when it is not installed."""
        try:
            import ray
        except ImportError:
            raise OptionError.about("executor", RAY_MISSING) from None
        return ray

    def _task_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"num_cpus": self.spec.ray_cpus, "max_retries": self.spec.ray_retries}
        if self.spec.ray_gpus > 0:
            opts["num_gpus"] = self.spec.ray_gpus
            # JAX takes 75% of a GPU's memory when it starts; runs that share a GPU take what they use instead
            opts["runtime_env"] = {"env_vars": {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}}
        return opts

    def map(self, fn: Callable[..., Any], units: Iterable[Any], *, in_process: dict[str, Any] | None = None
            ) -> Iterator[Any]:
        """Submit every unit, then yield results as tasks finish. On an error or an interrupt the tasks still in
        flight are cancelled; a Ray instance started here is stopped."""
        ray = self.check()
        units = list(units)
        if not units:
            return
        pending: list[Any] = []
        started = not ray.is_initialized()
        if started:
            try:
                init_ray(address=self.spec.ray_address)
            except ConnectionError:
                raise OptionError.about("ray_address", f"{self.spec.ray_address}: no running Ray cluster found "
                                        "there; start one with 'ray start --head', or leave --ray-address out "
                                        "for a local Ray instance") from None
        try:
            task = ray.remote(**self._task_options())(_call)
            pending = [task.remote(fn, u) for u in units]
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                try:
                    yield ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:  # the unit's own error, as the local executor raises it
                    cause = getattr(exc, "cause", None)
                    raise (cause if isinstance(cause, Exception) else exc) from None
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()


def _call(fn: Callable[[Any], Any], unit: Any) -> Any:
    """The Ray task: ``fn(unit)`` (a task is a function; ``fn`` may be any picklable callable, a partial too)."""
    return fn(unit)


def init_ray(**kwargs: Any) -> None:
    """``ray.init`` quietly (no dashboard, workers' output not copied here); ``kwargs`` go to ``ray.init``."""
    import ray

    with warnings.catch_warnings():
        # Ray starts its processes by fork + exec (subprocess); JAX warns about any fork once it is imported, but
        # a process that execs at once runs none of the parent's threads
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        ray.init(**{"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR", **kwargs})


def executor_for(spec: ExecutorSpec | None = None) -> LocalExecutor | RayExecutor:
    """The executor of ``spec`` (default: local)."""
    spec = spec or ExecutorSpec()
    return RayExecutor(spec) if spec.executor == "ray" else LocalExecutor()
