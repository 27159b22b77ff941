#!/usr/bin/env bash
# Times the small R3D training step (widths 8/16/32/64, batch 8, 8x32x32,
# AdamW) on the Go backend beside PyTorch's CPU anchor, in the same run,
# alternating the two so shared-machine load hits both, and prints the ratio
# ours/PyTorch of the medians. Usage: bench/cpu_train.sh [rounds] [vidrep binary]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
BIN=${2:-}
ANCHOR=${ANCHOR:-../shared/anchors/torch_r3d_cpu_small.py}
[[ -f $ANCHOR ]] || ANCHOR=/work/shared/anchors/torch_r3d_cpu_small.py
if [[ -z $BIN ]]; then
	BIN=$(mktemp -d)/vidrep
	GOEXPERIMENT=simd go build -o "$BIN" ./cmd/vidrep
fi
ours=() theirs=()
for ((r = 1; r <= ROUNDS; r++)); do
	o=$("$BIN" bench train --arch r3d-small --batch 8 --frames 8 --size 32 --steps 5 --warmup 2 --backend go 2>/dev/null | grep '^RESULT')
	echo "$o"
	ours+=("$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$o")")
	t=$(/usr/bin/python3 "$ANCHOR" --bench=train --widths=8,16,32,64 --hw=32 --b=8 --t=8 2>/dev/null | grep '^RESULT')
	echo "$t"
	theirs+=("$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$t")")
done
python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
o = [float(v) for v in sys.argv[1].split()]
t = [float(v) for v in sys.argv[2].split()]
print(f"rounds={len(o)} vidrep_ms={statistics.median(o):.1f} torch_ms={statistics.median(t):.1f} "
      f"ratio={statistics.median(o)/statistics.median(t):.2f} per_round=" +
      ",".join(f"{a/b:.2f}" for a, b in zip(o, t)))
PY
