#!/usr/bin/env bash
# One prepared script for a lent GPU machine (no network there): installs the pure-Python wheels carried in
# .whl/ (array-api-compat, array-api-strict, latex2mathml), then runs the CuPy checks and benchmarks.
# Prepare .whl/ beforehand on a machine with network access:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d .whl array-api-compat array-api-strict latex2mathml
# The GPU image must already hold CuPy, NumPy, SciPy, SymPy, mpmath, click, jinja2, matplotlib, hypothesis, pytest.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import cupy, numpy, scipy, sympy; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__, 'sympy', sympy.__version__)"
# time limits add up to 470 s (≤ 8 minutes with the set-up above)
echo "== sampling"; timeout 80 python3 benchmarks/gpu_sampling_check.py | tee "$OUT/gpu_sampling.json"
echo "== wishart"; timeout 50 python3 benchmarks/gpu_wishart_check.py | tee "$OUT/gpu_wishart.json"
echo "== pytest -m gpu"; timeout 90 python3 -m pytest -q -p no:cacheprovider -m gpu -rs tests/ 2>&1 | tee "$OUT/gpu_pytest.log" | tail -8
# every derivation, full fidelity, Monte Carlo on the GPU (≥ 100× the CPU quick run's paths; ctx.paths)
echo "== check --backend cupy --fidelity full"
timeout 240 python3 -m lindiff_verify check --backend cupy --fidelity full --jobs 12 --json "$OUT/check_cupy_full.json" \
  2>&1 | tee "$OUT/check_cupy_full.log" | tail -15
echo "== RESULTS.md"; timeout 10 python3 benchmarks/gpu_results.py "$OUT" | tail -40
