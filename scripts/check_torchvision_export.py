#!/usr/bin/env python3
"""Loads a `vidrep export` file into torchvision and checks it runs.

    /usr/bin/python3 scripts/check_torchvision_export.py ARCH FILE.safetensors [FIXTURE.json]

Reads the safetensors file with numpy only (no safetensors package needed),
loads it into torchvision.models.video.ARCH (or torchvision.models.resnet18)
with strict=True, so every key and shape must match, and prints the logits
on the fixture input of scripts/torchvision_fixture.py. With a fixture JSON
(models/testdata/torchvision_ARCH.json) it also prints the relative max
difference to the fixture's logits and exits 1 above 1e-3.
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    state = {}
    for key, e in header.items():
        if key == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        state[key] = torch.from_numpy(arr.copy())
    return state


def main():
    arch, path = sys.argv[1], sys.argv[2]
    fixture = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else None
    net = torchvision.models.resnet18() if arch == "resnet18" else getattr(torchvision.models.video, arch)()
    state = load(path)
    if "fc.weight" in state:
        net.fc = torch.nn.Linear(net.fc.in_features, state["fc.weight"].shape[0])
    net.load_state_dict(state, strict=True)
    net.eval()
    shape = fixture["input_shape"] if fixture else ([1, 3, 32, 32] if arch == "resnet18" else [2, 3, 4, 32, 32])
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    x = torch.from_numpy((np.sin(0.05 * j) * np.cos(0.0013 * j)).astype(np.float32).reshape(shape))
    with torch.no_grad():
        logits = net(x).numpy()
    print("loaded %d tensors into %s (strict); logits[0][:5] = %s" % (len(state), arch, logits[0][:5]))
    if fixture:
        want = np.array(fixture["logits"], dtype=np.float64)
        rel = np.abs(logits - want).max() / np.abs(want).max()
        print("relative max difference to %s: %.2g" % (sys.argv[3], rel))
        sys.exit(1 if rel > 1e-3 else 0)


if __name__ == "__main__":
    main()
