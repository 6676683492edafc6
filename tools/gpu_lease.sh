#!/usr/bin/env bash
# One device call for a session lent a GPU (issue 18, item 6): the GPU recipe
# as its one command, timed, with the CUDA tests and a training benchmark run
# beside it while the CPU cores simulate the data (the GPU idles then).
#
# Here first:  bash tools/gpu_bundle.sh        (.whl/site.zip)
# Device call: carry [".whl"], command `bash tools/gpu_lease.sh`, timeout 600.
#
# Under $OUT: train.log (every line stamped with seconds since the start;
# skxrd train's report at its end), cuda-tests.log, bench-training.log,
# gpu.txt, and the model in parts of at most 15 MB (model.pt.part-aa...;
# `cat model.pt.part-* > model.pt` rejoins them) since files over 16 MB do not
# come back. TRAIN_LIMIT (seconds, default 555) stops `skxrd train` in time
# for the call's 600 s; a run stopped before its model file returns the
# network's training state (resume-*.pt.part-*) instead: rejoined into a
# folder DIR, `skxrd train CONFIG -o M.pt --checkpoint-dir DIR` on any machine
# resumes it after its last finished epoch (or, when the network was
# finished, runs only the search-match, the indexing and the test). CONFIG and
# DEVICE override the config and the device (a smoke test on a CPU:
# CONFIG=tiny.toml DEVICE=cpu OUT=/tmp/o bash tools/gpu_lease.sh).
set -u
: "${OUT:?set OUT to the folder for the results}"
CONFIG=${CONFIG:-skxrd/pretrained/configs/gpu/space-group.toml}
DEVICE=${DEVICE:-cuda}
TRAIN_LIMIT=${TRAIN_LIMIT:-555}
cd "$(dirname "$0")/.."
start=$(date +%s.%N)
if ! python3 -c "import skorch, spglib, xrayutilities" 2>/dev/null; then
    # the device image lacks them: the bundle of tools/gpu_bundle.sh
    python3 -m zipfile -e .whl/site.zip /tmp/site || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
# prefix each line with the seconds since the start (tqdm's \r updates stay
# on one line until its newline)
stamp() {
    python3 -u -c '
import sys, time
t0 = float(sys.argv[1])
for line in sys.stdin:
    sys.stdout.write(f"[{time.time() - t0:6.1f} s] {line}")
    sys.stdout.flush()
' "$start"
}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  python3 -c 'import torch, sys; print(sys.version.split()[0], "torch",
torch.__version__, "cuda", torch.cuda.is_available(), "cpus", __import__("os").cpu_count())'
} >"$OUT/gpu.txt" 2>&1
(
    timeout 170 python3 -m pytest -q -m cuda -p no:cacheprovider \
        tests/simulation/test_torch_backend.py \
        tests/augmentation/test_augmentation_cuda.py \
        tests/estimators/test_portability.py >"$OUT/cuda-tests.log" 2>&1
    echo "exit $?" >>"$OUT/cuda-tests.log"
    timeout 70 python3 benchmarks/bench_training.py --device "$DEVICE" \
        --precision bf16 --epochs 3 >"$OUT/bench-training.log" 2>&1
    echo "exit $?" >>"$OUT/bench-training.log"
) &
side=$!
timeout "$TRAIN_LIMIT" python3 -m skxrd train "$CONFIG" -o /tmp/lease-model.pt \
    --force --device "$DEVICE" --n-jobs 16 --threads 8 --cache /tmp/lease-cache \
    --checkpoint-dir /tmp/lease-state 2>&1 | stamp >"$OUT/train.log"
status=${PIPESTATUS[0]}
echo "skxrd train: exit $status after $(python3 -c "import time; print(round(time.time() - $start, 1))") s"
wait "$side"
if [ -f /tmp/lease-model.pt ]; then
    split -b 15M /tmp/lease-model.pt "$OUT/model.pt.part-"
    ls -l /tmp/lease-model.pt
else
    # stopped before the model file: the network's training state instead
    # (at most 8 files come back), to finish with the same command elsewhere
    for state in /tmp/lease-state/resume-*.pt; do
        [ -f "$state" ] || continue
        split -b 15M "$state" "$OUT/$(basename "$state").part-"
        ls -l "$state"
    done
fi
tail -n 3 "$OUT/cuda-tests.log" "$OUT/bench-training.log"
grep -v "it/s\]\|s/it\]" "$OUT/train.log" | tail -n 40
exit "$status"
