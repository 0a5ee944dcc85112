"""compress(): gradual schedules reach the requested rate, rate="auto" never reads the test rows, resampling from
dispersed starts lets R-hat see chains in different modes. Short HMC chains on iris (one compiled shape)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation import selection
from bayesprune.pruning import n_to_remove, paths

SHORT = {"samples": 200}  # resampling steps per chain: enough to move, cheap to compile and run
# every kept-parameter count compiles its own sampler, so the tests share two: the steps of a two-step gradual
# schedule to 90% (21 and 10 of 99 kept)
STEPS = (0.9 * (1 - 0.5**3), 0.9)


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


@pytest.fixture(scope="module")
def full(iris):
    return api.sample(iris, sampler="hmc", chains=2, samples=300, seed=0)


def test_gradual_schedule_reaches_exactly_the_rate_and_keeps_paths(iris, full):
    comp = api.compress(full, iris, rate=0.9, schedule="gradual", schedule_steps=2, **SHORT)
    n = full.spec.n_params
    assert [s.rate for s in comp.steps] == pytest.approx(STEPS)
    kept = [int(s.prune.keep_mask.sum()) for s in comp.steps]
    assert kept == [n - n_to_remove(n, s.rate) for s in comp.steps]
    assert comp.resampled.n_params_kept == n - n_to_remove(n, 0.9)
    previous = np.ones(n, bool)
    for s in comp.steps:  # each step keeps a subset of what the step before it kept: repair brings nothing back
        assert paths.useful(full.spec, s.prune.keep_mask)[s.prune.keep_mask].all()
        assert paths.orphan_outputs(full.spec, s.prune.keep_mask).size == 0
        assert not np.any(s.prune.keep_mask & ~previous)
        previous = s.prune.keep_mask
    # a later step was scored on the earlier step's resampled posterior, and starts from its draws
    assert comp.steps[1].prune.reference is comp.steps[0].resampled
    assert comp.fit_check.rate == pytest.approx(0.9)  # no guard on a schedule: measured its way instead


def test_rate_auto_compares_with_the_full_model_on_the_scoring_chain(iris, full):
    """Candidates scored on and resampled from the best chain (``start_from='scoring-chains'``): the full model
    they are compared with was all chains, so a candidate's loss included losing the other chains' modes
    (pushing towards low rates); it is now the full model on that chain."""
    from bayesprune.evaluation import selection
    from bayesprune.predictive import pointwise_loglik

    comp = api.compress(full, iris, rate="auto", auto_rates=STEPS, start_from="scoring-chains", **SHORT)
    source = comp.steps[0].prune.source_chains
    assert source == [full.best_chain()] and full.result.num_chains == 2
    on_source = full.select_chains(source)
    expected = selection.loo(pointwise_loglik(full.posterior, on_source.result.draws, iris.X_train, iris.y_train))
    assert comp.selection.full_elpd == pytest.approx(expected.elpd, rel=1e-12)


def test_rate_auto_never_reads_the_test_rows(iris, full):
    """The same training rows with the test rows replaced by NaN choose the same rate from the same numbers."""
    blind = dataclasses.replace(iris, X_test=np.full_like(iris.X_test, np.nan),
                                y_test=np.zeros_like(iris.y_test))
    kw = dict(rate="auto", auto_rates=STEPS, **SHORT)
    a = api.compress(full, iris, **kw).selection
    b = api.compress(full, blind, **kw).selection
    assert a == b
    assert [c.rate for c in a.candidates] == list(STEPS)
    assert a.chosen in (0.0, *STEPS)
    passing = [c.rate for c in a.candidates if c.within]
    assert a.chosen == (max(passing) if passing else 0.0)


def test_rate_auto_that_keeps_everything_returns_the_full_sample_itself(iris, full, monkeypatch):
    """When no candidate passes, the compressed model is the full sample (every chain, nothing resampled), not
    all parameters resampled from the scoring chain's draws (one chain's mode: worse than the model it stands
    for)."""
    from bayesprune.stages import compress as compression

    real = selection.choose
    monkeypatch.setattr(compression.selection, "choose", lambda *a: dataclasses.replace(real(*a), chosen=0.0))
    comp = api.compress(full, iris, rate="auto", auto_rates=STEPS, **SHORT)
    assert comp.rate == 0.0 and comp.selection.chosen == 0.0 and comp.prune.keep_mask.all()
    assert comp.resampled.result.num_chains == full.result.num_chains == 2
    np.testing.assert_array_equal(comp.resampled.theta_draws(), full.theta_draws())
    np.testing.assert_array_equal(comp.pruned.theta_draws(), full.theta_draws())
    assert comp.resampled.seconds == 0.0 and len(comp.steps) == len(STEPS)


def test_prune_sends_rate_auto_to_compress(full):
    """prune chooses a mask; a rate chosen from the data resamples every candidate, which compress does (no
    prune -> compress recursion)."""
    with pytest.raises(OptionError, match=r"rate belongs to compress\(\).*compress\(sample, data, rate='auto'"):
        api.prune(full, rate="auto")
    with pytest.raises(OptionError, match=r"auto_rates belongs to compress\(\)"):
        api.prune(full, rate=0.5, auto_rates=(0.5,))


def test_selection_rule_by_hand():
    rng = np.random.default_rng(0)
    base = rng.normal(-0.5, 0.1, size=(2, 50, 40))
    full = selection.loo(base)
    worse = selection.loo(base - 0.2)  # 8 nats worse over 40 rows, with almost no spread: a clear loss
    same = selection.loo(base + rng.normal(0, 1e-3, size=base.shape))
    null = selection.null_elpd("classification", np.repeat([0, 1], 20))
    assert null == pytest.approx(40 * np.log(20 / 41))  # exact LOO of add-one smoothed frequencies
    cands = [selection.candidate(full, null, 0.5, 10, same, 1.0, 0.0),
             selection.candidate(full, null, 0.9, 2, worse, 1.0, 0.0)]
    assert cands[1].loss == pytest.approx(8.0, rel=1e-6) and not cands[1].within
    assert cands[0].within
    assert selection.choose(full, null, cands, 1.0, 0.0).chosen == 0.5
    # a tolerance of the gain over the null model lets the 8-nat loss pass
    gain = full.elpd - null
    tolerant = selection.candidate(full, null, 0.9, 2, worse, 1.0, 8.5 / gain)
    assert tolerant.within
    # a full model whose LOO is not above the null model's cannot rank candidates: none passes, even one that
    # seems to gain (ionosphere, every chain: 3,488 nats below the class frequencies, 95% chosen, 3.5 points lost)
    overfit = selection.loo(base - 5.0)
    assert overfit.elpd < null
    gaining = selection.candidate(overfit, null, 0.9, 2, same, 0.0, 0.0)
    assert gaining.loss < 0 and gaining.within
    assert selection.choose(overfit, null, [gaining], 0.0, 0.0).chosen == 0.0


def test_dispersed_resampling_starts_let_rhat_see_two_modes(iris, full, fake_sample):
    """Two chains in modes that predict differently: resampling from draws of both (start='draws') gives chains
    that disagree, and function-space R-hat says so; started from one point (the paper's 'mean'), it cannot."""
    r = full.result
    flipped = np.asarray(r.draws).copy()
    w2, b2 = full.spec.layer_slices[1]
    flipped[1, :, w2.start : b2.stop] *= -1.0  # chain 1: the output layer negated, another function
    two_modes = api.PosteriorSample(full.posterior, dataclasses.replace(
        r, draws=flipped, mean=flipped.mean(axis=1), var=flipped.var(axis=1), last_position=flipped[:, -1]))
    pr = api.prune(two_modes, rate=STEPS[0], score_from="pooled")
    quiet = {"step_size": 1e-4, "adapt": False}  # tiny steps: the chains stay where they start
    dispersed = api.resample(two_modes, iris, pr, start="draws", samples=60, sampler_settings=quiet)
    one_point = api.resample(two_modes, iris, pr, start="mean", samples=60, sampler_settings=quiet)
    assert api.evaluate(dispersed, iris).rhat_fn_max > 1.5

    def chain_gap(ps):  # the largest difference between the chains' mean test probabilities
        probs = api.predict(ps, iris.X_test).outputs.mean(axis=1)
        return float(np.abs(probs[0] - probs[1]).max())

    # rank-normalised R-hat saturates (about 3) for chains that never cross, which includes tiny-step random walks
    # from one point, so the disagreement itself is compared: the paper's start cannot show two modes
    assert chain_gap(one_point) < 0.05 < 0.5 < chain_gap(dispersed)


def test_resampling_from_all_chains_keeps_the_full_samples_modes(iris, full):
    """With the default best-chain scores, the starts came from the scoring chain alone, so the compact model
    lost the other chains' modes; ``start_from='all-chains'`` starts each chain from a different full chain
    (hidden units aligned to the scoring chain), and ``rate='auto'`` then compares with the full model on all
    chains (no sampling of its own: the sample and the compiled shape of the dispersed-starts test)."""
    r = full.result
    flipped = np.asarray(r.draws).copy()
    w2, b2 = full.spec.layer_slices[1]
    flipped[1, :, w2.start : b2.stop] *= -1.0  # chain 1 in another mode: its output layer negated
    two_modes = api.PosteriorSample(full.posterior, dataclasses.replace(
        r, draws=flipped, mean=flipped.mean(axis=1), var=flipped.var(axis=1), last_position=flipped[:, -1]))
    pr = api.prune(two_modes, rate=STEPS[0])
    assert len(pr.source_chains) == 1
    quiet = {"step_size": 1e-4, "adapt": False}  # tiny steps: the chains stay where they start

    def chain_gap(ps):  # the largest difference between the chains' mean test probabilities
        probs = api.predict(ps, iris.X_test).outputs.mean(axis=1)
        return float(np.abs(probs[0] - probs[1]).max())

    kw = dict(start="last", samples=60, sampler_settings=quiet)  # one chain: both start at its last state
    one_chain = api.resample(two_modes, iris, pr, start_from="scoring-chains", **kw)
    both = api.resample(two_modes, iris, pr, start_from="all-chains", **kw)
    assert chain_gap(one_chain) < 0.05 < 0.5 < chain_gap(both)

    from bayesprune.stages.resample import starts_chains  # the chains rate='auto' takes the full model on

    assert starts_chains(two_modes, pr) == pr.source_chains
    assert starts_chains(two_modes, pr, "all-chains") == [0, 1]


def test_lppd_criterion_is_the_drop_in_training_log_predictive_density(fake_sample):
    from scipy.special import logsumexp

    from bayesprune.predictive import pointwise_loglik
    from bayesprune.pruning import criteria

    ps = fake_sample(chains=2)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)).astype(np.float32), rng.integers(0, 3, size=30)
    draws = np.asarray(ps.result.draws)
    scores = criteria.lppd_loss(ps.posterior, draws, X, y, max_draws=40)
    assert scores.shape == (ps.spec.n_params,)

    def lppd(z):
        ll = pointwise_loglik(ps.posterior, z, X, y)
        return float(np.sum(logsumexp(ll, axis=0) - np.log(len(z))))

    flat = draws.reshape(-1, draws.shape[-1])  # 40 draws: all of them
    for i in (0, 50, 98):
        zi = flat.copy()
        zi[:, i] = 0.0
        assert scores[i] == pytest.approx(lppd(flat) - lppd(zi), abs=2e-3)
    with pytest.raises(OptionError, match="data is needed by the lppd criterion"):
        api.prune(ps, criterion="lppd", rate=0.5)


def test_run_with_rate_auto_records_and_reports_every_candidate(tmp_path):
    from bayesprune.experiments.runner import run, write_outputs
    from bayesprune.io.schema import validate_metrics
    from bayesprune.report.markdown import write_report
    from bayesprune.settings import RunConfig

    cfg = RunConfig(sampler="hmc", chains=2, samples=300, resample_samples=SHORT["samples"], rates=("auto", 0.9),
                    auto_rates=STEPS, rate_guard=0.0)  # the rate given as it is: no guard's record
    outcome = run(cfg)
    written = write_outputs(outcome, tmp_path) + write_report(outcome.view, tmp_path)
    auto = json.loads((tmp_path / "stn-auto" / "metrics.json").read_text())
    assert not validate_metrics(auto)
    sel = auto["rate_selection"]
    assert auto["requested_rate"] == "auto" and auto["rate"] == sel["chosen"]
    assert [c["rate"] for c in sel["candidates"]] == pytest.approx(list(STEPS))
    assert auto["mask_repair"]["removed_dead"] == auto["mask_repair"]["refilled"] + auto["mask_repair"]["path_added"]
    fixed = json.loads((tmp_path / "stn-0.9" / "metrics.json").read_text())
    assert fixed["requested_rate"] == 0.9 and "rate_selection" not in fixed
    assert "full_scored" in fixed["stages"]  # scored on the best chain: the full model on it is recorded too
    report = (tmp_path / "report.md").read_text()
    assert "Rate chosen by the rule" in report and "no inputs" in report
    assert any(p.name == "rate_selection_stn.png" for p in written)
    # a choice the run made (the sampler on large data) is a note, not a warning: in the report always, after the
    # table only where the command line did not print it before the work (--quiet)
    from dataclasses import replace

    from rich.console import Console

    from bayesprune.report.markdown import print_summary

    # what the run found after the work (intervals of a positive target below 0): after the table either way
    view = replace(outcome.view, warnings=[], notes=["--sampler auto chose sghmc on minibatches"],
                   findings=["3 of 60 test rows' 90% intervals reach below 0"])
    write_report(view, tmp_path / "noted", with_figures=False)
    report = (tmp_path / "noted" / "report.md").read_text()
    assert "- note: --sampler auto chose sghmc" in report and "warning: --sampler" not in report
    assert "- note: 3 of 60 test rows' 90% intervals reach below 0" in report
    for shown in (True, False):
        console = Console(record=True, width=200)
        print_summary(view, console, notes=shown)
        text = console.export_text()
        assert ("note: --sampler auto chose sghmc" in text) == shown and "warning: --sampler" not in text
        assert "note: 3 of 60 test rows' 90% intervals reach below 0" in text


def test_rate_guard_lowers_a_rate_that_loses_the_training_fit(iris, full):
    """A fixed rate too high for the network broke the compact model without a word (UCI energy at 75%: test RMSE
    1.5x the full model's on three seeds). The guard keeps the rate given only when the compact model loses at
    most ``rate_guard`` nats of PSIS-LOO ELPD per training row, else tries the lower rates, highest first, then
    the full network. Iris at 90% (10 of 99 parameters) loses about 0.6 nats per row in
    benchmarks/rate_auto.py, 12 times the default cap: it must be refused."""
    from bayesprune.settings import RATE_GUARD

    n_rows = len(iris.y_train)
    comp = api.compress(full, iris, rate=0.9, auto_rates=STEPS, **SHORT)
    sel = comp.selection
    tried = sorted(sel.candidates, key=lambda c: -c.rate)
    assert tried[0].rate == 0.9 and not tried[0].within and tried[0].loss > RATE_GUARD * n_rows
    assert sel.rule.startswith("guard") and sel.allowed_loss == pytest.approx(RATE_GUARD * n_rows)
    assert all(not c.within for c in tried[:-1])  # it stopped at the first rate that passed
    assert sel.chosen == next((c.rate for c in tried if c.within), 0.0) == comp.rate
    assert comp.resampled.n_params_kept == full.spec.n_params - n_to_remove(full.spec.n_params, comp.rate)
    assert [s.rate for s in comp.steps] == [c.rate for c in tried]
    from bayesprune.evaluation.records import to_json
    from bayesprune.report.markdown import guard_line

    line = guard_line(to_json(sel))  # what the summary prints when the guard lowered the rate
    assert line.startswith("rate guard: PSIS-LOO ELPD lost") and f"90% {tried[0].loss:.1f}" in line
    assert "--rate-guard 0 keeps the rate given" in line
    assert ("the full network kept" in line) == (comp.rate == 0.0)
    from bayesprune.evaluation.records import CellRecord
    from bayesprune.report.markdown import _rate_text
    from bayesprune.settings import RunConfig

    record = CellRecord(dataset="iris", task="classification", sampler="hmc", criterion="stn", rate=comp.rate, seed=0,
                        n_params=99, n_params_kept=99, stages={}, structured=False, per_layer=False,
                        chain_agreement_jaccard=1.0, score_chains=[0, 1], architecture={}, config=RunConfig(),
                        provenance={}, requested_rate=0.9, schedule=[s.summary() for s in comp.steps],
                        rate_selection=to_json(sel))
    text = _rate_text(record)  # the rates the guard tried are not a gradual schedule's steps
    assert text == f"{comp.rate:.0%} (guard: 90% lost too much)" and "gradual" not in text
    lenient = api.compress(full, iris, rate=0.9, auto_rates=STEPS, rate_guard=100.0, rate_guard_accuracy=0.0,
                           **SHORT)  # no ELPD loss too large, and no accuracy cap
    assert lenient.rate == 0.9 and len(lenient.steps) == 1 and lenient.selection.chosen == 0.9
    off = api.compress(full, iris, rate=0.9, rate_guard=0.0, **SHORT)
    assert off.rate == 0.9 and off.selection is None
    # the guard off, the compact model is still measured its way, and the run says it lost too much
    from bayesprune.experiments.advice import fit_warnings

    check = off.fit_check
    assert check.rate == 0.9 and not check.within and check.loss > RATE_GUARD * n_rows
    assert check.loss == pytest.approx(tried[0].loss, rel=0.5)  # what the guard measured at 90%
    (text,) = fit_warnings(check, n_rows, RunConfig(rate_guard=0.0))
    assert text.startswith(f"compact 90%: it fits the training rows {check.loss / n_rows:.3f} nats per row worse")
    assert "no --rate-guard 0" in text
    assert "--schedule oneshot" in fit_warnings(check, n_rows, RunConfig(schedule="gradual"))[0]
    assert fit_warnings(dataclasses.replace(check, within=True), n_rows, RunConfig()) == []
    assert fit_warnings(None, n_rows, RunConfig()) == []


def test_loo_accuracy_is_importance_weighted_leave_one_out():
    """PSIS-LOO accuracy: each row's class probabilities averaged over the draws with weights 1 / p(y_i | z). With
    mild weights (every p(y_i | z) in [0.2, 0.95], Pareto k small) the smoothing changes little, so it agrees with
    plain importance sampling row for row; a row that only the draws favouring it classify right is wrong when it
    is left out, although the plain posterior mean gets it right."""
    rng = np.random.default_rng(0)
    C, D, n, K = 2, 300, 40, 3
    probs = rng.dirichlet(np.ones(K), size=(C, D, n)) * 0.75 + 0.25 / K  # every probability >= 1/12
    y = rng.integers(0, K, size=n)
    loglik = np.log(np.take_along_axis(probs, y[None, None, :, None], -1)[..., 0])
    w = np.exp(-loglik).reshape(-1, n)
    plain_is = np.einsum("dn,dnk->nk", w / w.sum(0), probs.reshape(-1, n, K)).argmax(1) == y
    assert selection.loo_accuracy(loglik, probs, y) == pytest.approx(plain_is.mean(), abs=1.5 / n)
    # one row, two kinds of draw: half give the right class 0.9, half 0.3; the mean 0.6 is right, LOO 0.45 wrong
    half = np.where(np.arange(2 * D) < D, 0.9, 0.3).reshape(C, D) + rng.normal(0, 1e-3, size=(C, D))
    two = np.stack([half, 1 - half], -1)[:, :, None, :]
    ll = np.log(two[..., 0])
    assert two.mean((0, 1))[0, 0] > 0.5 and selection.loo_accuracy(ll, two, np.array([0])) == 0.0


def test_accuracy_guard_refuses_a_compact_model_that_classifies_worse():
    """For classification the guard may also cap the PSIS-LOO accuracy lost (``rate_guard_accuracy``): a compact
    model with the full model's log density can still classify worse (scikit-learn's digits at 75%: 0.025 nats
    per row lost, within the ELPD cap, and 2 points of LOO accuracy; 1.8 points on the test rows). The cap is off
    at 0, and a LOO without an accuracy (regression) is judged by its ELPD alone."""
    rng = np.random.default_rng(1)
    base = rng.normal(-0.1, 0.02, size=(2, 50, 100))
    full = dataclasses.replace(selection.loo(base), accuracy=0.99)
    cand = dataclasses.replace(selection.loo(base - 0.01), accuracy=0.97)
    null = selection.null_elpd("classification", np.repeat([0, 1], 50))
    strict = selection.guard_candidate(full, null, 0.75, 25, cand, 0.0488, accuracy_cap=0.01)
    assert not strict.within and strict.accuracy_loss == pytest.approx(0.02)
    assert selection.guard_candidate(full, null, 0.75, 25, cand, 0.0488).within  # the ELPD cap alone passes it
    assert selection.guard_candidate(full, null, 0.75, 25, cand, 0.0488, accuracy_cap=0.02).within  # 2 = cap
    regression = selection.guard_candidate(selection.loo(base), null, 0.75, 25, selection.loo(base - 0.01), 0.0488,
                                           accuracy_cap=0.01)
    assert regression.within and regression.accuracy_loss is None
    sel = selection.guard_selection(full, null, [strict], 0.0488, 0.01)
    assert sel.chosen == 0.0 and "accuracy is at most 1.0% lower" in sel.rule
    from bayesprune.experiments.advice import fit_warnings
    from bayesprune.settings import RunConfig

    (text,) = fit_warnings(strict, 100, RunConfig(rate_guard=0.0))
    assert text.startswith("compact 75%: it classifies 2.0% of the training rows fewer correctly")
    from bayesprune.evaluation.records import to_json
    from bayesprune.report.markdown import guard_line

    assert "75% 1.0 (2.0% accuracy)" in guard_line(to_json(sel))


def test_accuracy_guard_measures_the_compact_models_on_iris(iris, full):
    """End to end: with an accuracy cap every candidate the guard tried records the LOO accuracy it lost, and
    passed only within both caps."""
    comp = api.compress(full, iris, rate=0.9, auto_rates=STEPS, rate_guard=100.0, rate_guard_accuracy=0.01, **SHORT)
    tried = comp.selection.candidates
    assert tried and all(c.accuracy_loss is not None for c in tried)
    assert all(c.within == (c.accuracy_loss <= 0.01 + 1e-9) for c in tried)
    assert comp.rate == next((c.rate for c in sorted(tried, key=lambda c: -c.rate) if c.within), 0.0)


def test_guard_off_names_the_setting_to_change_first():
    """The guard runs on one rate in one step with a cap above 0; otherwise the reason is the setting whose change
    comes first (a gradual schedule with the guard at 0 needs the schedule changed before the cap matters)."""
    from bayesprune.settings import RATE_GUARD
    from bayesprune.stages.compress import guard_off

    assert guard_off(RATE_GUARD, "oneshot", None) is None
    assert guard_off(0.0, "oneshot", None) == "rate_guard"
    assert guard_off(0.0, "gradual", None) == guard_off(RATE_GUARD, "gradual", None) == "schedule"
    assert guard_off(0.0, "oneshot", (0.5, 0.5)) == guard_off(RATE_GUARD, "gradual", (0.5,)) == "layer_rates"


def test_selecting_every_chain_shares_the_draws(full):
    """All chains in order: the same arrays, not a copy (LeNet-300-100's draws are 4.3 GB); a subset or another
    order is indexed as before."""
    r = full.result
    assert r.select_chains([0, 1]).draws is r.draws
    np.testing.assert_array_equal(r.select_chains([1, 0]).draws, np.asarray(r.draws)[[1, 0]])
    np.testing.assert_array_equal(r.select_chains([1]).mean, np.asarray(r.mean)[[1]])
