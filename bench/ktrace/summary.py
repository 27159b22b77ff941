#!/usr/bin/env python3
"""Per-step kernel breakdown of a ktrace trace (bench/ktrace/ktrace.c).

The benchmarks wait for each step to finish before starting the next, so the
GPU idles between steps while the host prepares the next one: a gap between
kernels longer than --gap-ms marks a step boundary (gaps inside a step are a
few microseconds). The last --steps whole steps with the usual kernel count
are kept; the script prints their medians: kernels per step, GPU busy time
(the sum of kernel durations), span (first kernel of a step to first kernel
of the next), the idle gap before each step (host time with the GPU
waiting), time per category, and the top kernels.

Usage: summary.py TRACE.tsv [--steps N] [--gap-ms G] [--top N] [--label NAME]
"""
import argparse
import re
import statistics
from collections import Counter, defaultdict


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3:  # else a line cut off at exit
                rows.append((int(parts[0]), int(parts[1]), parts[2]))
    rows.sort()
    return rows


CATEGORIES = [
    ("conv forward", re.compile(r"fprop", re.I)),
    ("conv input grad", re.compile(r"dgrad", re.I)),
    ("conv weight grad", re.compile(r"wgrad", re.I)),
    ("cuDNN other", re.compile(r"cudnn|nhwc", re.I)),
    ("GEMM", re.compile(r"gemm|cublas|cutlass", re.I)),
    ("Triton", re.compile(r"^triton")),
    ("XLA fusion", re.compile(r"^(loop_|input_|wrapped_|fusion|copy|transpose|slice|concat)", re.I)),
    ("PyTorch ATen", re.compile(r"at6native|^_ZN2at")),
    ("other", re.compile(r"")),
]


def category(name):
    for label, rx in CATEGORIES:
        if rx.search(name):
            return label
    return "other"


def steps_of(rows, gap_ns, keep):
    """(start, end) index ranges of the last `keep` steps with the modal kernel count."""
    bounds = [i for i in range(1, len(rows)) if rows[i][0] - (rows[i - 1][0] + rows[i - 1][1]) > gap_ns]
    ranges = list(zip(bounds, bounds[1:]))
    if not ranges:
        return []
    mode = Counter(e - s for s, e in ranges[-(keep + 2):]).most_common(1)[0][0]
    return [(s, e) for s, e in ranges if e - s == mode][-keep:]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--gap-ms", type=float, default=0.3)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--label", default="")
    args = p.parse_args()
    rows = load(args.trace)
    print(f"== {args.label or args.trace}: {len(rows)} kernels in the trace")
    steps = steps_of(rows, args.gap_ms * 1e6, args.steps)
    if not steps:
        print(f"no step boundaries (gaps over {args.gap_ms} ms) found")
        return
    med = lambda xs: statistics.median(xs)  # noqa: E731
    busy = med([sum(r[1] for r in rows[s:e]) / 1e6 for s, e in steps])
    span = med([(rows[e][0] - rows[s][0]) / 1e6 for s, e in steps])
    idle = med([(rows[s][0] - rows[s - 1][0] - rows[s - 1][1]) / 1e6 for s, e in steps])
    print(f"{len(steps)} steps of {steps[0][1] - steps[0][0]} kernels: busy {busy:.2f} ms, span {span:.2f} ms, "
          f"idle before each step {idle:.2f} ms (medians)")
    for label, _ in CATEGORIES:
        ms = med([sum(r[1] for r in rows[s:e] if category(r[2]) == label) / 1e6 for s, e in steps])
        if ms > 0.005:
            print(f"  {label:18s} {ms:8.2f} ms  {100 * ms / busy:5.1f}%")
    per_name, count = defaultdict(int), Counter()
    for s, e in steps:
        for r in rows[s:e]:
            per_name[r[2]] += r[1]
            count[r[2]] += 1
    n = len(steps)
    print(f"top {args.top} kernels (ms per step, launches per step, category, name):")
    for name, t in sorted(per_name.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {t / n / 1e6:8.3f}  {count[name] / n:5.1f}  {category(name)[:12]:12s}  {name[:140]}")


if __name__ == "__main__":
    main()
