#!/usr/bin/python3
"""bench/torch_bench.py: the PyTorch side of `make bench`.

Trains the same network as models/MODEL.cfg (same layers, same PyTorch
default initialisation, same optimizer settings) on the same HDF5 file for
--steps steps at --batch with --threads threads, the data held in memory as
uint8 and scaled per batch exactly as scratchnet does, and prints one line:

    images_per_s=<float> peak_rss_mb=<float>

images/s counts the steps after the first --warmup ones.  Needs Debian's
python3-torch and python3-h5py (`make bench` installs them); scratchnet's
build and tests never run this file.
"""
import argparse
import resource
import time

import h5py
import numpy as np
import torch
import torch.nn as nn


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                             nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))
    if name == "cnn":
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        return nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2), nn.Dropout(0.1),
                             *block(32, 64), *block(64, 64), nn.MaxPool2d(2), nn.Dropout(0.2),
                             nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.BatchNorm1d(256),
                             nn.ReLU(), nn.Dropout(0.4), nn.Linear(256, 10))
    if name == "lstm":
        class Lstm(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(28, 128, batch_first=True)
                self.fc = nn.Linear(128, 10)

            def forward(self, x):
                out, _ = self.lstm(x.view(x.shape[0], 28, 28))
                return self.fc(out[:, -1])
        return Lstm()
    raise SystemExit("torch_bench.py: unknown model " + name)


def optimizer(name, params):
    if name == "lstm":   # models/lstm.cfg: adam lr 0.002, clip_norm 5
        return torch.optim.Adam(params, lr=0.002)
    wd = 0.0005 if name in ("lenet5", "cnn") else 0.0
    return torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=wd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    with h5py.File(a.data, "r") as f:
        x = torch.from_numpy(np.ascontiguousarray(f["/train/x"][...]))        # uint8
        y = torch.from_numpy(f["/train/y"][...].astype(np.int64))
        scale = float(f["/train/x"].attrs.get("scale", 1.0))
    x = x.reshape(x.shape[0], 1, 28, 28)
    net = build(a.model)
    net.train()
    opt = optimizer(a.model, net.parameters())
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(x.shape[0])
    t_start = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t_start = time.perf_counter()
        at = (step * a.batch) % (x.shape[0] - a.batch)
        idx = perm[at:at + a.batch]
        xb = x[idx].float().mul_(scale)
        yb = y[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), yb)
        loss.backward()
        if a.model == "lstm":
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
    dt = time.perf_counter() - t_start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("images_per_s=%.1f peak_rss_mb=%.1f" % (a.steps * a.batch / dt, rss_mb))


if __name__ == "__main__":
    main()
