#!/usr/bin/env bash
# One prepared GPU session (run on the device machine from the repository root):
# the CUDA-marked tests (op table on CUDA vs CPU, layers, losses, optimizers, NCCL world of one,
# the main job on CUDA), then the bench rows on CUDA next to torch CUDA. Logs go to $OUT.
set -u
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
pip install -q --no-deps -e . >/dev/null 2>&1 || pip install --no-deps -e .
python -c "import cupy, chainrule as cr; print('cupy', cupy.__version__, 'cuda available', cr.cuda.is_available())"
timeout ${TEST_TIMEOUT:-300} python -m pytest -q -p no:warnings -o addopts="" -m cuda -rf \
    tests/test_cuda.py tests/test_cuda_op_table.py tests/test_distributed.py 2>&1 | tee "$OUT/tests.log" | tail -60
timeout ${BENCH_TIMEOUT:-120} python -m bench --device cuda --samples 5 --min-time 0.2 --pause 0 \
    --only "${BENCH_ONLY:-MLP,LeNet,ResNet,GPT,LSTM}" 2>&1 | tee "$OUT/bench.log" | tail -30
