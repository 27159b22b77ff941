#!/usr/bin/env bash
# Where a GPU training step's time goes, kernel by kernel, for vidrep (XLA)
# and the PyTorch anchor (torch.compile) alike: both run under the same
# CUPTI tracer (bench/ktrace/ktrace.c, LD_PRELOADed), and
# bench/ktrace/summary.py splits one step's kernel time into convolutions,
# GEMMs, Triton, XLA fusions and the rest. Also keeps XLA's optimized HLO of
# the step, to map fusion names back to the graph.
#
# R3D-18, batch 32, 16x112x112, bf16 training (the issue's torch.compile
# comparison); DTYPE=f32 profiles f32 against eager instead.
# Usage (GPU machine, bundle from `make gpu-bundle`): bench/gpu_profile.sh BUNDLE OUT
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:?bundle directory from make gpu-bundle}
OUT=${2:?output directory}
DTYPE=${DTYPE:-bf16}
mkdir -p "$OUT"
PROF=$OUT/profile.txt
# the tracer, against whichever CUPTI the machine has
bench/ktrace/build.sh /tmp/ktrace.so 2>&1 | tee -a "$PROF"
[[ -f /tmp/ktrace.so ]] || exit 1
rm -rf /tmp/kt && mkdir -p /tmp/kt

# vidrep, traced, with XLA's optimized HLO dumped
rm -rf /tmp/xdump
(
	# shellcheck source=/dev/null
	. "$B/xla-cuda-env.sh"
	XLA_FLAGS="$XLA_FLAGS --xla_dump_to=/tmp/xdump --xla_dump_hlo_as_text" KTRACE_OUT=/tmp/kt/vidrep \
		LD_PRELOAD=/tmp/ktrace.so timeout 240 "$B/vidrep-noav" bench train --arch r3d_18 --batch 32 --frames 16 \
		--size 112 --classes 101 --dtype "$DTYPE" --steps 12 --warmup 3
) 2>&1 | tee -a "$PROF"

# the anchor, traced (its compiled configuration runs in a child process,
# which writes its own trace file)
tdt=$([[ $DTYPE == bf16 ]] && echo bfloat16 || echo float32)
targs=(--compile-only --compile-timeout 240 --tag compile)
[[ $DTYPE == f32 ]] && targs=(--tag eager)
KTRACE_OUT=/tmp/kt/torch LD_PRELOAD=/tmp/ktrace.so PYTHONUNBUFFERED=1 timeout 300 python3 "$B/torch_r3d18.py" \
	--batch 32 --frames 16 --size 112 --steps 20 --mode train --dtype "$tdt" "${targs[@]}" 2>&1 | tee -a "$PROF"

for side in vidrep torch; do
	f=$(ls -S /tmp/kt/$side.*.tsv 2>/dev/null | head -n 1)
	[[ -n $f ]] || { echo "no trace for $side" | tee -a "$PROF"; continue; }
	python3 bench/ktrace/summary.py "$f" --label "$side $DTYPE train" --top 50 2>&1 | tee -a "$PROF"
	tail -n 30000 "$f" | gzip >"$OUT/trace-$side.tsv.gz"
done
(cd /tmp/xdump 2>/dev/null && tar czf "$OUT/xla-hlo.tgz" $(ls | grep -E 'after_optimizations\.txt$' | head -n 40))
ls -la "$OUT"
