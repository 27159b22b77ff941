#!/usr/bin/env bash
# Times R3D-18 (torchvision's architecture, batch 32, 16x112x112) on one GPU:
# vidrep on GoMLX's XLA backend beside the PyTorch anchor
# (../shared/anchors/torch_r3d18.py) on the same machine in the same run, and
# prints clips/s with the ratio ours/theirs (above 1.0: vidrep is faster).
#
# Configurations: training (forward, cross-entropy, backward, AdamW) and
# inference, each in f32 and bf16; the anchor's bf16 is autocast with f32
# weights, vidrep's bf16 computes in bf16 with f32 weights and batch-norm
# statistics. The anchor also runs torch.compile for bf16 training, the
# issue's target. Both sides are timed wall to wall with a device sync per
# step (the anchor's median_wall_ms; vidrep reads the step's output back).
#
# Usage (on the GPU machine, with a binary from `make build-gpu`):
#   bench/gpu_r3d18.sh [vidrep binary] [output dir]
# Environment: ENVSH (default ../shared/gpu/xla-cuda-env.sh), ANCHOR (default
# ../shared/anchors/torch_r3d18.py), PY (python with torch, default python3),
# STEPS (timed steps, default 20), COMPILE=0 skips torch.compile.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-bin/vidrep-noav}
OUT=${2:-$(mktemp -d)}
ENVSH=${ENVSH:-../shared/gpu/xla-cuda-env.sh}
ANCHOR=${ANCHOR:-../shared/anchors/torch_r3d18.py}
PY=${PY:-python3}
STEPS=${STEPS:-20}
mkdir -p "$OUT"
SHAPE=(--batch 32 --frames 16 --size 112)

# shellcheck source=/dev/null
. "$ENVSH"
[[ ${GOMLX_BACKEND:-} == xla:* ]] || { echo "gpu_r3d18: $ENVSH did not set GOMLX_BACKEND to an XLA plugin" >&2; exit 1; }

: >"$OUT/vidrep.txt"
for mode in train infer; do
	for dt in f32 bf16; do
		timeout 300 "$BIN" bench "$mode" --arch r3d_18 "${SHAPE[@]}" --classes 101 --dtype "$dt" \
			--steps "$STEPS" --warmup 3 2>&1 | tee -a "$OUT/vidrep.txt"
	done
done

PYTHONUNBUFFERED=1 "$PY" "$ANCHOR" "${SHAPE[@]}" --steps "$STEPS" --mode all --dtype all \
	--tag eager | tee "$OUT/torch.jsonl"
if [[ ${COMPILE:-1} != 0 ]]; then
	PYTHONUNBUFFERED=1 "$PY" "$ANCHOR" "${SHAPE[@]}" --steps "$STEPS" --mode train --dtype bfloat16 \
		--compile-only --compile-timeout 240 --tag compile | tee -a "$OUT/torch.jsonl"
fi

"$PY" - "$OUT/vidrep.txt" "$OUT/torch.jsonl" <<'PY' | tee "$OUT/summary.txt"
import json, re, sys
ours = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT vidrep"):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        mode = line.split()[2]
        ours[(mode, kv["dtype"])] = float(kv["clips_per_s"])
theirs = {}
for line in open(sys.argv[2]):
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if "error" in r:
        print("anchor error:", r["mode"], r["dtype"], r["compiled"], r["error"][:200])
        continue
    dt = {"float32": "f32", "bfloat16": "bf16"}[r["dtype"]]
    wall = r["batch"] / (r["median_wall_ms"] / 1e3)
    theirs[(r["mode"], dt, "compile" if r["compiled"] else "eager")] = (wall, r.get("device", "?"))
print("mode  dtype  vidrep_clips_s  torch_kind  torch_clips_s  ratio_ours_over_torch")
for (mode, dt, kind), (wall, dev) in sorted(theirs.items()):
    o = ours.get((mode, dt))
    ratio = f"{o / wall:.2f}" if o else "-"
    print(f"{mode:5s} {dt:5s}  {o if o else float('nan'):14.1f}  {kind:10s}  {wall:13.1f}  {ratio}   [{dev}]")
PY
