#!/usr/bin/env python3
"""Writes the torchvision reference fixtures of vidrep's weights-interop tests.

For each network (torchvision's r3d_18, mc3_18, r2plus1d_18 and the 2D
resnet18 that i3d_r18 inflates) it fills every parameter and buffer with a
deterministic formula that Go recomputes exactly, runs a deterministic input
in eval mode, and writes models/testdata/torchvision_<arch>.json with every
state-dict key and shape, the input shape and the outputs (pooled features
and logits). The weights themselves are not stored: the formula is the
fixture.

Formula (all in float64, then rounded to float32), for a tensor with key K,
torch shape S and C-order flat index i:
    h     = FNV-1a 32-bit hash of K's UTF-8 bytes
    base  = sin(0.7071 * i + (h % 1000) / 100)
    conv/linear weight (rank >= 2): base * 2 / sqrt(prod(S[1:]))
    batch-norm weight (rank 1):     1 + 0.2 * base
    bias:                           0.1 * base
    running_mean:                   0.1 * base
    running_var:                    1 + 0.25 * (1 + base)
    num_batches_tracked:            0 (int64)
The input (torch layout, N,C,T,H,W or N,C,H,W) at C-order flat index j is
    sin(0.05 * j) * cos(0.0013 * j).

Run with Debian's python3-torch/python3-torchvision:
    /usr/bin/python3 scripts/torchvision_fixture.py [outdir]
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torchvision

VIDEO_INPUT = [2, 3, 4, 32, 32]
IMAGE_INPUT = [1, 3, 32, 32]


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def formula(key, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    base = np.sin(0.7071 * np.arange(n, dtype=np.float64) + (fnv1a32(key) % 1000) / 100.0)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "weight" and len(shape) >= 2:
        vals = base * 2.0 / math.sqrt(int(np.prod(shape[1:])))
    elif leaf == "weight":
        vals = 1.0 + 0.2 * base
    elif leaf in ("bias", "running_mean"):
        vals = 0.1 * base
    elif leaf == "running_var":
        vals = 1.0 + 0.25 * (1.0 + base)
    else:
        raise ValueError("no formula for " + key)
    return vals.astype(np.float32).reshape(shape)


def clip_input(shape):
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    return torch.from_numpy((np.sin(0.05 * j) * np.cos(0.0013 * j)).astype(np.float32).reshape(shape))


def fill(net):
    state = net.state_dict()
    keys = []
    for key, value in state.items():
        shape = list(value.shape)
        keys.append({"key": key, "shape": shape, "dtype": str(value.dtype).replace("torch.", "")})
        if key.endswith("num_batches_tracked"):
            value.zero_()
        else:
            value.copy_(torch.from_numpy(formula(key, shape)))
    return keys


def run(arch, net, input_shape, outdir):
    torch.manual_seed(0)
    keys = fill(net)
    net.eval()
    x = clip_input(input_shape)
    feats = {}
    net.avgpool.register_forward_hook(lambda m, i, o: feats.setdefault("f", o.flatten(1)))
    with torch.no_grad():
        logits = net(x)
    out = {
        "arch": arch,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "formula": "see scripts/torchvision_fixture.py",
        "input_shape": input_shape,
        "keys": keys,
        "features": [[float("%.7g" % v) for v in row] for row in feats["f"].tolist()],
        "logits": [[float("%.7g" % v) for v in row] for row in logits.tolist()],
    }
    path = os.path.join(outdir, "torchvision_%s.json" % arch)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "models", "testdata")
    torch.set_num_threads(1)
    video = torchvision.models.video
    run("r3d_18", video.r3d_18(), VIDEO_INPUT, outdir)
    run("mc3_18", video.mc3_18(), VIDEO_INPUT, outdir)
    run("r2plus1d_18", video.r2plus1d_18(), VIDEO_INPUT, outdir)
    run("resnet18", torchvision.models.resnet18(), IMAGE_INPUT, outdir)


if __name__ == "__main__":
    main()
