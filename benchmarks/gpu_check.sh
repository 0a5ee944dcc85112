#!/usr/bin/env bash
# The GPU checks of the scale work, as one script for a lent GPU machine (its device time is short: the limits
# below add up to under 10 minutes): the device JAX finds, `bayesprune run --device gpu`, LG-MH chains 1 -> 4,096
# on ionosphere (benchmarks/scale.py), and the wall time of the paper's protocol and of the HMC grid with
# --batch-runs (a data set's runs as the chains of one call). Everything lands in $OUT (default gpu-results/).
#
#   DATA=.data OUT=/tmp/out bash benchmarks/gpu_check.sh          # on the GPU machine
#   DEVICE=cpu SMOKE=1 bash benchmarks/gpu_check.sh               # a dry run of the script here, in a minute
#
# Packages the machine lacks travel as wheels in .whl/ (pip download --no-deps --only-binary=:all:
# --python-version 3.12 ...: blackjax, arviz, h5netcdf, platformdirs, xarray-einstats); they are installed into
# /tmp/site first. The paper's data files must travel too (DATA, a folder inside the repository).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-results}
DATA=${DATA:-../shared/data}
DEVICE=${DEVICE:-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg BAYESPRUNE_DATA="$DATA" PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
PY=${PYTHON:-python3}
if [ -n "${SMOKE:-}" ]; then GRID=(--smoke --datasets iris,lazer); CHAINS=1,64; STEPS=200; else GRID=(); CHAINS=1,1024,4096; STEPS=2000; fi

timed() {  # timed NAME LIMIT COMMAND...: run with a time limit, log to $OUT/NAME.log, wall seconds to the summary
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "| $name | $((SECONDS - t0)) s | exit $rc |" | tee -a "$OUT/summary.md"
}

echo "| step | wall | status |" >"$OUT/summary.md"
echo "|---|---|---|" >>"$OUT/summary.md"
$PY -c "import jax; print(jax.__version__, jax.devices())" | tee "$OUT/devices.txt"
timed run 90 $PY -m bayesprune run --device "$DEVICE" --quiet --no-figures --out /tmp/gpu-check-run
cp /tmp/gpu-check-run/metrics.json "$OUT/run_metrics.json" 2>/dev/null
timed chains 150 $PY benchmarks/scale.py --chains "$CHAINS" --steps "$STEPS" --grids none --data-dir "$DATA" \
  --out "$OUT/scale.md"
timed paper_grid 180 $PY -m bayesprune reproduce "${GRID[@]}" --device "$DEVICE" --batch-runs --data-dir "$DATA" \
  --quiet --no-figures --out /tmp/gpu-check-paper
timed hmc_grid 150 $PY -m bayesprune reproduce "${GRID[@]}" --device "$DEVICE" --batch-runs --sampler hmc \
  --samples 5000 --data-dir "$DATA" --quiet --no-figures --out /tmp/gpu-check-hmc
cp /tmp/gpu-check-paper/results.csv "$OUT/paper_results.csv" 2>/dev/null
cat "$OUT/summary.md"
