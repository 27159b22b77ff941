#!/usr/bin/env bash
# Builds the CUPTI kernel tracer (ktrace.c) against the GPU machine's CUDA,
# runs a three-kernel PyTorch smoke test under it, and writes the library to
# $1 (default /tmp/ktrace.so). Prints what it found and the smoke test's
# first trace lines; exits non-zero when no tracer could be built.
set -uo pipefail
cd "$(dirname "$0")/../.."
SO=${1:-/tmp/ktrace.so}
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
hdr=$(find /usr/local/cuda*/ "$site/nvidia" -name cupti.h 2>/dev/null | head -n 1)
[[ -n $hdr ]] || { echo "ktrace: no cupti.h found"; exit 1; }
inc=$(dirname "$hdr")
lib=$(find "$(dirname "$inc")" "$site/nvidia" -name 'libcupti.so*' 2>/dev/null | head -n 1)
cudainc=$(dirname "$(find /usr/local/cuda*/ "$site/nvidia" -name cuda.h 2>/dev/null | head -n 1)")
# the newest versioned kernel record the headers declare is the one CUPTI fills
krec=CUpti_ActivityKernel$(grep -hoE 'CUpti_ActivityKernel[0-9]+;' "$inc"/cupti_activity.h | tr -dc '0-9\n' | sort -n | tail -n 1)
echo "ktrace: $hdr, $lib, record $krec"
rm -f "$SO"
gcc -O2 -shared -fPIC -DKREC="$krec" -I"$inc" -I"$cudainc" bench/ktrace/ktrace.c \
	-L"$(dirname "$lib")" -l:"$(basename "$lib")" -Wl,-rpath,"$(dirname "$lib")" -lpthread -o "$SO" || exit 1
smoke=$(mktemp -d)
KTRACE_OUT=$smoke/smoke LD_PRELOAD=$SO python3 -c \
	'import torch; x = torch.randn(1 << 20, device="cuda"); print((x * 2).sum().item())' >/dev/null 2>&1
head -n 3 "$smoke"/smoke.*.tsv 2>/dev/null | cut -c1-120 || echo "ktrace: the smoke test wrote no trace"
