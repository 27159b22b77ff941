#!/usr/bin/env bash
# Runs every GPU comparison in one device call, from a bundle that
# `make gpu-bundle` fills: R3D-18 (bench/gpu_r3d18.sh) then the VideoMAE
# ViT-S pretraining step (bench/gpu_videomae.sh), each beside its PyTorch
# anchor, with nvidia-smi's view of the card first. About 6 minutes on an
# H200, most of it compilation.
# Usage: bench/gpu_all.sh BUNDLE OUT   (e.g. bench/gpu_all.sh .gpu "$OUT")
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:?bundle directory from make gpu-bundle}
OUT=${2:?output directory}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
ENVSH=$B/xla-cuda-env.sh ANCHOR=$B/torch_r3d18.py bench/gpu_r3d18.sh "$B/vidrep-noav" "$OUT"
ENVSH=$B/xla-cuda-env.sh ANCHOR=$B/torch_more.py bench/gpu_videomae.sh "$B/vidrep-noav" "$OUT"
