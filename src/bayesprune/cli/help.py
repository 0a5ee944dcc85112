"""The texts of ``bayesprune --help`` and of each command's ``--help``."""

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

defaults: MCLMC (BlackJAX's microcanonical Langevin MC, step size, L and preconditioner tuned in warm-up; on
large data SGHMC, below), each of 4 chains started from its own Adam-optimised network, 40,000 steps with 50%
burn-in (chosen by measurement: benchmarks/default_sampler.py), prior N(0, 25), STN pruning of 75% of the
parameters, 40,000 resampling steps.
The rate is guarded: when the compact model loses more than log 1.05 nats per training row of PSIS-LOO fit
against the full model (or, classifying, more than 1 point of PSIS-LOO accuracy), 50% is tried, then the full
network is kept, and the summary says so (--rate-guard 0 takes the rate as given). When the Monte Carlo error of
the predictions is large (MC err > 0.1 predictive sds) the summary says so and how many more chains to run
(--chains; more chains shrink it even where each chain sits in a mode of its own, longer chains only where they
mix); --until-converged SECONDS samples on until the chains agree.
After the table a line compares the compact model with the full one on the same test rows: how many rows changed
class and whether the changes lean one way more than chance would (exact McNemar test), or the RMSE ratio with a
95% paired bootstrap interval; on a small test set a point or two of accuracy is often one or two rows.
The paper's set-up is --sampler lgmh (lr 0.01, step 0.025, eta step 0.2, l_prob 0.5; 40,000 samples, 20,000
resampling steps by default) with --resample-samples 1000.
Large data: full-batch sampling costs rows x parameters per gradient. The default sampler, --sampler auto,
estimates the run before it starts (near the limit, timing this machine's gradient first): when a run with MCLMC
would take more than 15 minutes it runs MCLMC shortened to fit (down to half its steps), and when even that would
not fit it takes SGHMC on minibatches (--batch-size), saying which; --sampler mclmc samples full batch at full
length whatever the size.
A target above 0 in every row (a price, a duration) whose 90% intervals reach below 0 gets a note after the
table; --target-transform log models its logarithm instead, so its intervals stay above 0 (metrics and
predictions in the target's units either way).
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

EXPORT_HELP = """\
Export a compact model to ONNX: one graph holding every kept draw (or --draws of them) that maps raw feature
rows (float32, your units) to the posterior predictive, runnable in ONNX Runtime without bayesprune or JAX.
Outputs: classification 'probabilities' [rows, classes]; regression 'mean', 'sd', 'lower', 'upper' [rows] in
the target's units (the same numbers as 'bayesprune predict'); with --with-draws also 'draws'. Needs the
optional extra: pip install 'bayesprune[onnx]'.

example:
  bayesprune run --out runs/iris
  bayesprune export runs/iris/model.bpz --format onnx -o iris.onnx
  python -c "import onnxruntime as ort, numpy as np; s = ort.InferenceSession('iris.onnx'); \\
    print(s.run(None, {'X': np.array([[5.1, 3.5, 1.4, 0.2]], np.float32)}))"
"""
