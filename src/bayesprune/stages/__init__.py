"""The stages of a run, one module each: ``sample`` (the full posterior), ``prune`` (a keep-mask and the pruned
draws), ``resample`` (MCMC on the kept parameters), ``compress`` (prune -> resample in one or several steps, at a
rate given or chosen) and ``evaluate`` (the metrics of a stage); ``posterior_sample`` is the result type they
pass along. :mod:`bayesprune.api` is their public facade."""
