#!/usr/bin/env bash
# How much of vidrep's GPU training step is the host's: R3D-18 (batch 32,
# 16x112x112) traced kernel by kernel (bench/ktrace) with AdamW, with SGD
# (no moment buffers: about 120 fewer device buffers per call) and in
# inference (weights in, features out). bench/ktrace/summary.py prints each
# one's GPU busy time per step and the idle gap before each step, which is
# host time: the benchmark waits for a step before starting the next, as the
# PyTorch anchor does. The gap against the number of variables (the RESULT
# line's variables=) says what each device buffer passed to a call costs.
# Usage (GPU machine, bundle from `make gpu-bundle`): bench/gpu_host_overhead.sh BUNDLE OUT
# Environment: DTYPE (bf16, default, or f32).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:?bundle directory from make gpu-bundle}
OUT=${2:?output directory}
mkdir -p "$OUT"
LOG=$OUT/host_overhead.txt
bench/ktrace/build.sh /tmp/ktrace.so 2>&1 | tee -a "$LOG"
[[ -f /tmp/ktrace.so ]] || exit 1
# shellcheck source=/dev/null
. "$B/xla-cuda-env.sh"
SHAPE=(--arch r3d_18 --batch 32 --frames 16 --size 112 --classes 101 --dtype "${DTYPE:-bf16}" --steps 15 --warmup 3)

# run NAME ARGS...: one traced `vidrep bench ARGS`, its RESULT line and its summary
run() {
	local name=$1
	shift
	rm -f /tmp/kt-"$name".*
	KTRACE_OUT=/tmp/kt-$name LD_PRELOAD=/tmp/ktrace.so timeout 150 "$B/vidrep-noav" bench "$@" "${SHAPE[@]}" 2>&1 |
		grep RESULT | tee -a "$LOG"
	python3 bench/ktrace/summary.py "$(ls -S /tmp/kt-"$name".*.tsv | head -n 1)" --label "$name" --top 0 | tee -a "$LOG"
}
run train-adamw train --optimizer adamw
run train-sgd train --optimizer sgd
run infer infer
