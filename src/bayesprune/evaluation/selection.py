"""Choosing the pruning rate from the training data: PSIS-LOO expected log predictive density of each candidate.

For every candidate rate the pruned network is resampled, and its expected log predictive density (ELPD) is
estimated by Pareto-smoothed importance-sampling leave-one-out cross-validation on the training rows (ArviZ's
``loo``; Vehtari, Gelman & Gabry 2017). The loss of a candidate against the full model is the sum over rows of
the pointwise difference of their LOO log densities, with standard error ``sqrt(n * var(diff_i))`` (Vehtari et
al. 2017, Eq. 24: the paired SE, which is what ``arviz.compare`` reports as ``dse``).

The rule is projpred's ``suggest_size`` (Piironen, Paasiniemi & Vehtari 2020) with its ``alpha`` and ``pct``:
the largest rate whose loss, less ``n_se`` standard errors, is at most ``tolerance`` times the full model's gain
over a null model that ignores the inputs (the class frequencies, or a Gaussian with the target's mean and
variance, each left-one-out exactly). With ``tolerance=0`` it is the one-standard-error rule; the default 0.05
asks the compact model to keep 95% of what the inputs add to the log predictive density. The full model itself
(rate 0) is chosen when no candidate passes. The test set is never read: this module sees training
log-likelihoods and training targets only.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np

from bayesprune._arviz import az
from bayesprune.errors import OptionError


@dataclass(frozen=True)
class LOO:
    """PSIS-LOO of one posterior on the training rows."""

    elpd: float
    se: float
    p_loo: float
    pointwise: np.ndarray  # elpd_loo_i per row
    pareto_k: np.ndarray
    good_k: float  # ArviZ's threshold for a reliable importance-sampling estimate (0.7 for many draws)
    accuracy: float | None = None  # classification: the share of rows whose LOO predictive's top class is right

    @property
    def n_bad_k(self) -> int:
        return int(np.sum(self.pareto_k > self.good_k))


def arviz_loo(loglik: np.ndarray):
    """ArviZ's pointwise PSIS-LOO (its ``ELPDData``) from log-likelihoods of shape (chain, draw, row); its
    Pareto-k warnings are silenced (callers count or ignore high k themselves)."""
    loglik = np.asarray(loglik, np.float64)
    if loglik.ndim != 3:
        raise OptionError.about("loglik", f"must have shape (chain, draw, row), got {loglik.shape}")
    idata = az.from_dict(posterior={"_": np.zeros(loglik.shape[:2])}, log_likelihood={"y": loglik})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.loo(idata, pointwise=True)


def loo(loglik: np.ndarray) -> LOO:
    """PSIS-LOO (ArviZ) from pointwise log-likelihoods of shape (chain, draw, row)."""
    e = arviz_loo(loglik)  # Pareto-k values are counted and reported
    k = np.asarray(e["pareto_k"], np.float64)
    return LOO(float(e["elpd_loo"]), float(e["se"]), float(e["p_loo"]), np.asarray(e["loo_i"], np.float64), k,
               float(e.get("good_k", 0.7)))


def loo_accuracy(loglik: np.ndarray, probs: np.ndarray, y: np.ndarray) -> float:
    """PSIS-LOO accuracy: the share of rows ``y`` whose leave-one-out predictive class probabilities (each draw's
    ``probs`` (chain, draw, row, class) weighted by ArviZ's Pareto-smoothed importance weights ``1 / p(y_i | z)``
    from ``loglik`` (chain, draw, row)) rank the observed class first. ArviZ computes the weights; it has no
    leave-one-out expectation of a vector, which is written here. The weights take a relative efficiency of 1
    (it sets the length of the smoothed tail only)."""
    loglik = np.asarray(loglik, np.float64)
    n = loglik.shape[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log_w, _ = az.psislw(-loglik.reshape(-1, n).T)  # (row, draw): draws on the last axis
    p = np.einsum("nd,dnk->nk", np.exp(np.asarray(log_w)), np.asarray(probs).reshape(-1, n, probs.shape[-1]))
    return float(np.mean(np.argmax(p, axis=1) == np.asarray(y).astype(int)))


def null_elpd(task: str, y: np.ndarray) -> float:
    """Exact leave-one-out ELPD of a model without inputs: class frequencies of the other rows (add-one
    smoothed, so a class seen once still has a probability), or a Gaussian with their mean and variance."""
    y = np.asarray(y)
    n = len(y)
    if task == "classification":
        k = int(y.max()) + 1
        counts = np.bincount(y.astype(int), minlength=k).astype(np.float64)
        p = (counts[y.astype(int)] - 1 + 1) / (n - 1 + k)
        return float(np.sum(np.log(p)))
    y = y.astype(np.float64)
    mean = (y.sum() - y) / (n - 1)
    sq = (np.sum(y**2) - y**2) / (n - 1)
    var = np.maximum(sq - mean**2, 1e-12) * (n - 1) / max(n - 2, 1)
    return float(np.sum(-0.5 * (np.log(2 * np.pi * var) + (y - mean) ** 2 / var)))


@dataclass(frozen=True)
class Candidate:
    """One candidate rate: its LOO estimate and its loss against the full model."""

    rate: float
    n_params_kept: int
    elpd: float
    se: float
    loss: float  # elpd(full) - elpd(candidate): positive when the pruned model predicts worse
    loss_se: float
    n_bad_k: int
    within: bool  # loss - n_se * loss_se <= the allowed loss (:func:`allowed_loss`)
    accuracy_loss: float | None = None  # the rate guard, classification: PSIS-LOO accuracy lost (a share)


@dataclass(frozen=True)
class RateSelection:
    """Every candidate and the rate the rule chose (``rate_selection`` in metrics.json)."""

    rule: str
    n_se: float
    tolerance: float
    null_elpd: float
    full_elpd: float
    full_se: float
    full_n_bad_k: int
    allowed_loss: float  # the loss a candidate may have before its standard errors are added
    candidates: list[Candidate] = field(default_factory=list)
    chosen: float = 0.0

    @property
    def chosen_candidate(self) -> Candidate | None:
        return next((c for c in self.candidates if c.rate == self.chosen), None)


def rule_text(n_se: float, tolerance: float) -> str:
    return (f"largest rate whose PSIS-LOO ELPD loss on the training rows, less {n_se:g} standard error(s) of the "
            f"paired difference, is at most {tolerance:.0%} of the full model's gain over a model without inputs")


def allowed_loss(full_elpd: float, null: float, tolerance: float) -> float:
    """``tolerance`` times the full model's ELPD gain over the model without inputs (0 when there is none)."""
    return tolerance * max(full_elpd - null, 0.0)


def candidate(full: LOO, null: float, rate: float, n_kept: int, cand: LOO, n_se: float,
              tolerance: float) -> Candidate:
    """A candidate's loss against the full model, from the two pointwise LOO estimates (same rows)."""
    diff = full.pointwise - cand.pointwise
    loss = float(np.sum(diff))
    loss_se = float(np.sqrt(len(diff) * np.var(diff)))
    return Candidate(float(rate), int(n_kept), cand.elpd, cand.se, loss, loss_se, cand.n_bad_k,
                     bool(loss - n_se * loss_se <= allowed_loss(full.elpd, null, tolerance)))


def choose(full: LOO, null: float, candidates: list[Candidate], n_se: float, tolerance: float) -> RateSelection:
    """Apply the rule: the largest rate that passes (0.0, the full model, when none does).

    When the full model's PSIS-LOO ELPD is not above the model without inputs', the estimate cannot rank the
    candidates and none passes: an overfitted network's LOO can be that far off (ionosphere, 210 rows, 1,852
    parameters, four chains: 3,488 nats below the class frequencies, with a high Pareto k on every row, for a
    network with 97% test accuracy), and every candidate then seemed to gain thousands of nats, so the largest
    rate passed and lost 3.5 points."""
    ok = [c.rate for c in candidates if c.within] if full.elpd > null else []
    return RateSelection(rule_text(n_se, tolerance), float(n_se), float(tolerance), float(null), full.elpd,
                         full.se, full.n_bad_k, allowed_loss(full.elpd, null, tolerance),
                         sorted(candidates, key=lambda c: c.rate), max(ok) if ok else 0.0)


# the rate guard (settings.RATE_GUARD, :func:`bayesprune.stages.compress.guarded`)
GUARD_ROWS = 5000  # training rows the guard's PSIS-LOO is estimated on, at most (evenly spaced): a loss per row
GUARD_DRAWS = 250  # draws per chain the guard's PSIS-LOO uses, at most (evenly spaced)


def guard_rule_text(cap: float, accuracy_cap: float = 0.0) -> str:
    accuracy = f" and whose PSIS-LOO accuracy is at most {accuracy_cap:.1%} lower" if accuracy_cap > 0 else ""
    return (f"guard: the rate given, or else the next lower of --auto-rates, or else the full network, whose "
            f"PSIS-LOO ELPD loss on the training rows is at most {cap:g} nats per row{accuracy}")


def guard_rows(n_rows: int) -> int:
    """How many of ``n_rows`` training rows the guard's PSIS-LOO is estimated on (evenly spaced): at most
    ``GUARD_ROWS``; its cap is in nats per one of them."""
    return min(int(n_rows), GUARD_ROWS)


ACCURACY_SLACK = 1e-9  # a share of rows: equal counts of rows compare equal in floating point


def guard_candidate(full: LOO, null: float, rate: float, n_kept: int, cand: LOO, cap: float,
                    accuracy_cap: float = 0.0) -> Candidate:
    """A candidate of the guard: it passes when its loss is at most ``cap`` nats per row and, where both LOO
    estimates have an accuracy and ``accuracy_cap`` > 0, its PSIS-LOO accuracy is at most ``accuracy_cap`` below
    the full model's."""
    c = candidate(full, null, rate, n_kept, cand, 0.0, 0.0)
    lost = None if full.accuracy is None or cand.accuracy is None else full.accuracy - cand.accuracy
    accurate = accuracy_cap <= 0 or lost is None or lost <= accuracy_cap + ACCURACY_SLACK
    return dataclasses.replace(c, within=bool(c.loss <= cap * len(full.pointwise) and accurate),
                               accuracy_loss=lost)


def guard_selection(full: LOO, null: float, tried: list[Candidate], cap: float,
                    accuracy_cap: float = 0.0) -> RateSelection:
    """The guard's record: the candidates in the order tried (highest rate first) and the first that passed;
    the full network's rate 0 when none did. When the full model's LOO does not beat the model without
    inputs it cannot judge (see :func:`choose`), and the rate given is kept."""
    judged = full.elpd > null
    passed = [c.rate for c in tried if c.within]
    chosen = tried[0].rate if not judged else passed[0] if passed else 0.0
    rule = guard_rule_text(cap, accuracy_cap) + ("" if judged else " (not applied: the full model's LOO is below "
                                                 "the model without inputs')")
    return RateSelection(rule, 0.0, 0.0, float(null), full.elpd, full.se, full.n_bad_k,
                         cap * len(full.pointwise), sorted(tried, key=lambda c: c.rate), chosen)
