#!/usr/bin/env python3
"""PyTorch reference for choosing a pretext on the synthetic benchmark.

Pretrains the small R3D (widths 8/16/32/64, two blocks a stage, as
../shared/anchors/torch_r3d_cpu_small.py) on the benchmark's unlabeled
videos plus its split-1 training videos with their labels hidden, then fits
a linear probe on frozen features of 2, 5 and 24 labeled videos per class
(3 label draws each) and prints the video top-1 on split 1's test videos.
PyTorch runs the same step several times faster than vidrep's Go backend
on CPU, so this script is where a pretext is tried before vidrep runs it.

Methods: none (random init), sup (supervised on all split-1 labels: the
ceiling), simclr, simclr-rev (reversed clips as extra negatives), speed,
pan, and combinations such as speed+simclr.

Usage: /usr/bin/python3 bench/torch_pretext_probe.py DATA METHOD STEPS
Environment: MODE=res|rgb|diff (input: residual frames by default), LR,
T (frames), S (stride), B (videos per step), TAU, SEED.
"""
import math
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

root, method, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = os.environ.get
LR, T, S = float(env("LR", "2e-3")), int(env("T", "4")), int(env("S", "3"))
B, TAU, MODE, SEED = int(env("B", "16")), float(env("TAU", "0.1")), env("MODE", "res"), int(env("SEED", "0"))
torch.set_num_threads(2)
torch.manual_seed(SEED)
random.seed(SEED)
np.random.seed(SEED)
classes = [line.split()[1] for line in open(f"{root}/classInd.txt")]


def read_video(rel):
    cap, frames = cv2.VideoCapture(f"{root}/{rel}"), []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    return np.stack(frames).astype(np.float32) / 255.0


def read_list(name):
    return [(read_video(l.split()[0]), classes.index(l.split()[0].split("/")[0])) for l in open(f"{root}/{name}")]


train, test = read_list("trainlist01.txt"), read_list("testlist01.txt")
pool = [read_video(l.split()[0]) for l in open(f"{root}/unlabeled.txt")] + [v for v, _ in train]
span = (T - 1) * S + 1


def to_input(frames):
    """[T,H,W,3] in 0..1 -> [3,T,H,W], normalised, as MODE says."""
    x = torch.from_numpy((frames - 0.45) / 0.225).permute(3, 0, 1, 2)
    if MODE == "res":
        x = x - x.mean(dim=1, keepdim=True)
    elif MODE == "diff":
        x = x[:, 1:] - x[:, :-1]
    return x


def augment(x, strong):
    """One random resized crop (and, when strong, colour changes) for all frames."""
    _, h, w, _ = x.shape
    scale = random.uniform(0.5 if strong else 0.7, 1.0)
    ratio = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
    ch, cw = min(h, round(h * math.sqrt(scale / ratio))), min(w, round(w * math.sqrt(scale * ratio)))
    y0, x0 = random.randint(0, h - ch), random.randint(0, w - cw)
    x = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in x[:, y0:y0 + ch, x0:x0 + cw]])
    if strong and random.random() < 0.8:
        x = x * random.uniform(0.6, 1.4) + random.uniform(-0.2, 0.2)
        grey = x.mean(-1, keepdims=True)
        x = grey + (x - grey) * random.uniform(0.6, 1.4)
        if random.random() < 0.5:
            x = x[..., np.random.permutation(3)]
    if strong and random.random() < 0.2:
        x = np.repeat(x.mean(-1, keepdims=True), 3, -1)
    return np.clip(x, 0, 1).astype(np.float32)


def random_clip(v, stride=S, strong=False):
    n = (T - 1) * stride + 1
    s = random.randint(0, len(v) - n)
    return to_input(augment(v[s:s + n:stride], strong))


PAN_DIRS = 8


def pan_clip(v, direction):
    """A 0.69-side window sliding 0.078 frame sides a frame along direction."""
    s = random.randint(0, len(v) - span)
    c = v[s:s + span:S]
    h = c.shape[1]
    side, step = round(0.69 * h), min(0.078 * h, (h - round(0.69 * h)) / max(T - 1, 1))
    a = 2 * math.pi * direction / PAN_DIRS
    vx, vy, mid = step * math.cos(a), step * math.sin(a), (T - 1) / 2
    cx = random.uniform(abs(vx) * mid, h - side - abs(vx) * mid)
    cy = random.uniform(abs(vy) * mid, h - side - abs(vy) * mid)
    out = []
    for t in range(T):
        x0 = min(max(round(cx + vx * (t - mid)), 0), h - side)
        y0 = min(max(round(cy + vy * (t - mid)), 0), h - side)
        out.append(cv2.resize(c[t, y0:y0 + side, x0:x0 + side], (h, h), interpolation=cv2.INTER_LINEAR))
    return to_input(np.stack(out))


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, stride, pad):
        super().__init__(nn.Conv3d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm3d(cout))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a, self.b = ConvBN(cin, cout, 3, stride, 1), ConvBN(cout, cout, 3, 1, 1)
        self.down = ConvBN(cin, cout, 1, stride, 0) if stride != 1 or cin != cout else None

    def forward(self, x):
        skip = x if self.down is None else self.down(x)
        return F.relu(self.b(F.relu(self.a(x))) + skip)


class R3DSmall(nn.Module):
    """r3d-small: torchvision's R3D-18 layout at widths 8/16/32/64; forward gives pooled features."""

    def __init__(self, widths=(8, 16, 32, 64)):
        super().__init__()
        self.stem = ConvBN(3, widths[0], (3, 7, 7), (1, 2, 2), (1, 3, 3))
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks += [Block(cin, w, 2 if i > 0 else 1), Block(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(F.relu(self.stem(x))).mean(dim=(2, 3, 4))


def mlp(out):
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, out))


SPEEDS = [r for r in (1, 2, 4, 8) if (T - 1) * r + 1 <= min(len(v) for v in pool)]
enc = R3DSmall()
heads = nn.ModuleDict({"proj": nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 64)),
                       "speed": mlp(len(SPEEDS)), "pan": mlp(PAN_DIRS), "sup": nn.Linear(64, len(classes))})
opt = torch.optim.AdamW(list(enc.parameters()) + list(heads.parameters()), lr=LR, weight_decay=1e-4)


def info_nce(z1, z2, negatives=None):
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    z, n = torch.cat([z1, z2]), z1.shape[0]
    sim = z @ z.t() / TAU
    sim.fill_diagonal_(-1e9)
    if negatives is not None:
        sim = torch.cat([sim, z @ F.normalize(negatives, dim=1).t() / TAU], 1)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target), (sim.argmax(1) == target).float().mean().item()


def classify(head, x, y):
    logits = heads[head](enc(torch.stack(x)))
    y = torch.tensor(y)
    return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean().item()


def step_loss():
    """The summed loss of the method's parts on one batch, and the last part's accuracy."""
    vids, loss, acc = random.sample(pool, B), 0.0, 0.0
    if "simclr" in method:
        a = torch.stack([random_clip(v, strong=True) for v in vids])
        b = torch.stack([random_clip(v, strong=True) for v in vids])
        if "rev" in method:
            za, zb, zr = heads["proj"](enc(torch.cat([a, b, torch.flip(b, dims=[1])]))).split(B)
            part, acc = info_nce(za, zb, zr)
        else:
            za, zb = heads["proj"](enc(torch.cat([a, b]))).split(B)
            part, acc = info_nce(za, zb)
        loss = loss + part
    if "speed" in method:
        y = [random.randrange(len(SPEEDS)) for _ in vids]
        part, acc = classify("speed", [random_clip(v, stride=SPEEDS[k]) for v, k in zip(vids, y)], y)
        loss = loss + part
    if "pan" in method:
        y = [random.randrange(PAN_DIRS) for _ in vids]
        part, acc = classify("pan", [pan_clip(v, k) for v, k in zip(vids, y)], y)
        loss = loss + part
    if method == "sup":
        batch = random.sample(train, B)
        part, acc = classify("sup", [random_clip(v) for v, _ in batch], [c for _, c in batch])
        loss = loss + part
    return loss, acc


t0, history = time.time(), []
for step in range(1, steps + 1 if method != "none" else 1):
    for g in opt.param_groups:
        g["lr"] = LR * min(1, step / 20) * 0.5 * (1 + math.cos(math.pi * step / steps))
    loss, acc = step_loss()
    opt.zero_grad()
    loss.backward()
    opt.step()
    history.append((loss.item(), acc))
    if step % 100 == 0:
        h = np.array(history[-100:])
        print(f"step {step} loss {h[:, 0].mean():.3f} pretext acc {h[:, 1].mean():.3f} {time.time() - t0:.0f}s", flush=True)

enc.eval()


def features(data):
    with torch.no_grad():
        return torch.stack([enc(torch.stack([to_input(v[s:s + span:S]) for s in
                                             np.linspace(0, len(v) - span, 3).astype(int)])).mean(0) for v, _ in data])


f_train, f_test = features(train), features(test)
mu, sd = f_train.mean(0), f_train.std(0) + 1e-6
f_train, f_test = (f_train - mu) / sd, (f_test - mu) / sd
y_train, y_test = torch.tensor([c for _, c in train]), torch.tensor([c for _, c in test])


def probe(idx, weight_decay=1e-3):
    w = torch.zeros(f_train.shape[1], len(classes), requires_grad=True)
    b = torch.zeros(len(classes), requires_grad=True)
    lbfgs = torch.optim.LBFGS([w, b], max_iter=200)

    def closure():
        lbfgs.zero_grad()
        loss = F.cross_entropy(f_train[idx] @ w + b, y_train[idx]) + weight_decay * (w ** 2).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    return ((f_test @ w + b).argmax(1) == y_test).float().mean().item() * 100


results = []
for per_class in (2, 5, 24):
    accs = []
    for draw in range(3):
        g = np.random.RandomState(draw)
        idx = [i for c in range(len(classes))
               for i in g.choice([j for j, (_, cj) in enumerate(train) if cj == c], per_class, replace=False)]
        accs.append(probe(torch.tensor(idx)))
    results.append(f"lin{per_class}={np.mean(accs):.1f}±{np.std(accs):.1f}")
print(f"RESULT {method} steps={steps} T={T} S={S} mode={MODE} " + " ".join(results) + f" wall={time.time() - t0:.0f}s")
