#!/usr/bin/env python3
"""OpenCV anchor for `vidrep bench data`: read clips the way vidrep's bench does.

For each clip: open the next file with cv2.VideoCapture, seek to a random start
(CAP_PROP_POS_FRAMES), read frames start, start+stride, ... (frames of them),
resize each to the short side with bilinear interpolation, convert BGR to RGB,
centre-crop, release. Prints one JSON object with clips, wall and CPU seconds.
Needs python3-opencv (Debian: apt-get install python3-opencv, OpenCV 4.6).
"""
import argparse
import json
import random
import sys
import time

import cv2


def read_clip(path, rng, a):
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SystemExit(f"cannot open {path}")
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    span = (a.frames - 1) * a.stride + 1
    start = rng.randrange(max(1, n - span + 1))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    for i in range(span):
        ok = cap.grab()
        if not ok:
            break
        if i % a.stride:
            continue
        ok, img = cap.retrieve()
        if not ok:
            break
        h, w = img.shape[:2]
        if w <= h:
            nw, nh = a.short, round(h * a.short / w)
        else:
            nw, nh = round(w * a.short / h), a.short
        img = cv2.cvtColor(cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        y0, x0 = (nh - a.crop) // 2, (nw - a.crop) // 2
        out.append(img[y0:y0 + a.crop, x0:x0 + a.crop].copy())
    cap.release()
    if len(out) != a.frames:
        raise SystemExit(f"{path}: short clip ({len(out)} of {a.frames} frames from {start})")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clips", type=int, default=300)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--stride", type=int, default=2)
    p.add_argument("--short", type=int, default=128)
    p.add_argument("--crop", type=int, default=112)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    cv2.setNumThreads(1)
    rng = random.Random(a.seed)
    for i in range(min(10, a.clips)):  # warm-up, as the Go side does
        read_clip(a.files[i % len(a.files)], rng, a)
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(a.clips):
        read_clip(a.files[i % len(a.files)], rng, a)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    json.dump({"method": f"OpenCV {cv2.__version__} VideoCapture (anchor)", "clips": a.clips, "wall_s": wall,
               "cpu_s": cpu, "clips_per_s": a.clips / wall, "clips_per_cpu_s": a.clips / cpu}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
