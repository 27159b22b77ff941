#!/usr/bin/env bash
# Times a VideoMAE ViT-S pretraining step (batch 32, 16x224x224, tube mask
# 90%, decoder 192 wide, 4 blocks, 3 heads) on one GPU: vidrep on GoMLX's XLA
# backend (`vidrep bench pretrain --method videomae --arch vit_small`) beside
# the PyTorch anchor (Hugging Face VideoMAEForPreTraining in
# ../shared/anchors/torch_more.py) on the same machine in the same run, and
# prints clips/s with the ratio ours/theirs (above 1.0: vidrep is faster).
#
# vidrep times each step wall to wall, reading the loss back; the anchor
# times with CUDA events (device time only), which favours it slightly.
# vidrep's bf16 computes the encoder in bf16 with f32 weights and its decoder
# in f32; the anchor's bf16 is autocast.
#
# Usage (on the GPU machine, with a binary from `make build-gpu`):
#   bench/gpu_videomae.sh [vidrep binary] [output dir]
# Environment: ENVSH (default ../shared/gpu/xla-cuda-env.sh), ANCHOR (default
# ../shared/anchors/torch_more.py), PY (python with torch and transformers,
# default python3), STEPS (timed steps, default 20).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-bin/vidrep-noav}
OUT=${2:-$(mktemp -d)}
ENVSH=${ENVSH:-../shared/gpu/xla-cuda-env.sh}
ANCHOR=${ANCHOR:-../shared/anchors/torch_more.py}
PY=${PY:-python3}
STEPS=${STEPS:-20}
mkdir -p "$OUT"

# shellcheck source=/dev/null
. "$ENVSH"
[[ ${GOMLX_BACKEND:-} == xla:* ]] || { echo "gpu_videomae: $ENVSH did not set GOMLX_BACKEND to an XLA plugin" >&2; exit 1; }

: >"$OUT/vidrep-videomae.txt"
for dt in f32 bf16; do
	timeout 300 "$BIN" bench pretrain --method videomae --arch vit_small --batch 32 --frames 16 --size 224 \
		--mask-ratio 0.9 --decoder-dim 192 --decoder-depth 4 --decoder-heads 3 --dtype "$dt" \
		--steps "$STEPS" --warmup 3 2>&1 | tee -a "$OUT/vidrep-videomae.txt"
done
PYTHONUNBUFFERED=1 "$PY" "$ANCHOR" --only videomae_s --steps "$STEPS" | tee "$OUT/torch-videomae.jsonl"

"$PY" - "$OUT/vidrep-videomae.txt" "$OUT/torch-videomae.jsonl" <<'PY' | tee "$OUT/summary-videomae.txt"
import json, re, sys
ours = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT vidrep pretrain"):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        ours[kv["dtype"]] = float(kv["clips_per_s"])
print("dtype  vidrep_clips_s  torch_clips_s  ratio_ours_over_torch")
for line in open(sys.argv[2]):
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    dt = {"float32": "f32", "bfloat16": "bf16"}[r["dtype"]]
    if "error" in r:
        print(f"{dt:5s}  anchor error: {r['error'][:200]}")
        continue
    o = ours.get(dt)
    ratio = f"{o / r['clips_per_s']:.2f}" if o else "-"
    print(f"{dt:5s}  {o if o else float('nan'):14.1f}  {r['clips_per_s']:13.1f}  {ratio}   [{r.get('device', '?')}]")
PY
