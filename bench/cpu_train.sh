#!/usr/bin/env bash
# Times the small R3D training step (widths 8/16/32/64, batch 8, 8x32x32,
# AdamW) on the Go backend beside PyTorch's CPU anchor in the same run,
# alternating the two so shared-machine load hits both, and prints the
# ratios ours/PyTorch of the medians: wall clock, and process CPU time per
# step (the anchor is run unchanged except that its timer reads CPU time in
# a second pass), which is steadier when other jobs share the cores.
# Usage: bench/cpu_train.sh [rounds] [vidrep binary] (default: make build's bin/vidrep)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
BIN=${2:-}
ANCHOR=${ANCHOR:-../shared/anchors/torch_r3d_cpu_small.py}
[[ -f $ANCHOR ]] || ANCHOR=/work/shared/anchors/torch_r3d_cpu_small.py
ARGS=(--bench=train --widths=8,16,32,64 --hw=32 --b=8 --t=8)
if [[ -z $BIN ]]; then
	make build >/dev/null # SIMD kernels and the engine patch, as users get them
	BIN=bin/vidrep
fi
med() { sed -E 's/.*median_ms=([0-9.]+).*/\1/'; }
ow=() oc=() tw=() tc=()
for ((r = 1; r <= ROUNDS; r++)); do
	o=$("$BIN" bench train --arch r3d-small --batch 8 --frames 8 --size 32 --steps 5 --warmup 2 --backend go 2>/dev/null | grep '^RESULT')
	echo "$o"
	ow+=("$(med <<<"$o")")
	oc+=("$(sed -E 's/.*cpu_ms=([0-9.]+).*/\1/' <<<"$o")")
	t=$(/usr/bin/python3 "$ANCHOR" "${ARGS[@]}" 2>/dev/null | grep '^RESULT')
	echo "$t (wall)"
	tw+=("$(med <<<"$t")")
	t=$(/usr/bin/python3 -c 'import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' "$ANCHOR" "${ARGS[@]}" 2>/dev/null | grep '^RESULT')
	echo "$t (cpu)"
	tc+=("$(med <<<"$t")")
done
python3 - "${ow[*]}" "${tw[*]}" "${oc[*]}" "${tc[*]}" <<'PY'
import statistics as st, sys
ow, tw, oc, tc = ([float(v) for v in a.split()] for a in sys.argv[1:5])
print(f"rounds={len(ow)} wall: vidrep_ms={st.median(ow):.1f} torch_ms={st.median(tw):.1f} ratio={st.median(ow)/st.median(tw):.2f} "
      f"per_round=" + ",".join(f"{a/b:.2f}" for a, b in zip(ow, tw)))
print(f"rounds={len(oc)} cpu:  vidrep_ms={st.median(oc):.1f} torch_ms={st.median(tc):.1f} ratio={st.median(oc)/st.median(tc):.2f} "
      f"per_round=" + ",".join(f"{a/b:.2f}" for a, b in zip(oc, tc)))
PY
