#!/usr/bin/python3
"""bench/cifar_fast_torch.py: models/cifar_fast.cfg in PyTorch, the peer of
scratchnet's run for time to accuracy on the same cores.

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/cifar_fast_torch.py \\
        [--model models/cifar_fast.cfg] [--data data/cifar10.h5] [--epochs N]
        [--threads 2] [--eval-every N] [--steps N] [--seed S] [--log F.jsonl]
        [--nchw] [--test-rows N]

The network is built from the model file by tools/scratchnet_torch.py (the
same layers, parameter names and layouts), the first min(C, filters)
filters of every `init = dirac` conv set by torch.nn.init.dirac_ after
PyTorch's default initialisation, as scratchnet does.  The recipe is read
from the same file: SGD (momentum, Nesterov), weight decay coupled (or
decoupled: p *= 1 - lr wd before the step), the parameter groups of
lr_mult / wd_mult per layer and per kind (weights, biases, batchnorm), the
onecycle schedule by step, label smoothing, batchnorm with the weight
fixed at 1 (affine = bias), `init = whiten` with `freeze = weight` and
Lookahead (lookahead_k, lookahead_alpha), as scratchnet computes them; [augment] translate (reflect padding, a random
crop per image and epoch) and flip = alternate (a random phase per image,
flipped in every other epoch), and the test-time views with their weights
after the last epoch.  Data: /train and /test of the HDF5 file, uint8
pixels times their scale attribute, as scratchnet reads them; each epoch a
new permutation, floor(N / batch) steps.  Differences from scratchnet's
run: batchnorm statistics over the whole batch (scratchnet at 2 ranks:
over each rank's half), and other random draws.

Prints one line per epoch (and appends the same fields as scratchnet's
--log to --log): epoch, step, train loss and accuracy, test accuracy (when
evaluated), images/s of the training steps (the first epoch's after its
first two), elapsed seconds (training and
evaluation since the start, data loading excluded); then the test accuracy
with the views.  Tensors are channels_last (the layout PyTorch's CPU
convolutions through oneDNN work in; --nchw for the plain layout).
Needs Debian's python3-torch and python3-h5py; scratchnet's
build and tests never run this file.
"""
import argparse
import json
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import scratchnet_torch  # noqa: E402

WARMUP = 2   # steps of the first epoch left out of its images/s


def load(path, split):
    with h5py.File(path, "r") as f:
        x = torch.from_numpy(f[split + "/x"][...])
        y = torch.from_numpy(f[split + "/y"][...].astype(np.int64))
        scale = float(f[split + "/x"].attrs.get("scale", 1.0))
    return x, y, scale


def recipe(sections):
    """The [net] and [augment] values this script follows, with scratchnet's defaults."""
    net = dict(sections[0][1])
    aug = next((kv for w, kv in sections if w == "augment"), {})
    r = {k: float(net.get(k, d)) for k, d in [
        ("lr", 0.01), ("momentum", 0.0), ("weight_decay", 0.0), ("label_smoothing", 0.0),
        ("lr_start_factor", 0.04), ("lr_end_factor", 4e-6), ("warmup_fraction", 0.3)]}
    r.update({k: int(net.get(k, d)) for k, d in [
        ("batch", 64), ("epochs", 10), ("nesterov", 0), ("decoupled_weight_decay", 0),
        ("seed", 1)]})
    if net.get("optimizer", "sgd") != "sgd":
        raise SystemExit("cifar_fast_torch.py: only optimizer = sgd is followed here")
    r["schedule"] = net.get("lr_schedule", "constant")
    if r["schedule"] not in ("constant", "onecycle"):
        raise SystemExit("cifar_fast_torch.py: only lr_schedule constant or onecycle")
    r["warmup_steps"] = int(net["warmup_steps"]) if "warmup_steps" in net else None
    r["mults"] = {kind: (float(net.get(kind + "_lr_mult", 1)), float(net.get(kind + "_wd_mult", 1)))
                  for kind in ("weight", "bias", "norm")}
    r["translate"] = int(aug.get("translate", 0))
    r["flip"] = aug.get("flip", "0")
    views, weights = [], []
    if aug.get("test_flip", "0") == "1":
        views, weights = [(0, 0, False), (0, 0, True)], [1.0, 1.0]
    elif "test_views" in aug:
        for v in aug["test_views"].split(","):
            words = v.split()
            flip = "flip" in words
            ints = [int(w) for w in words if w != "flip"]
            views.append((ints[0], ints[1], flip) if ints else (0, 0, flip))
        weights = [float(w) for w in aug["test_weights"].split(",")] if "test_weights" in aug \
            else [1.0] * len(views)
    r["views"] = [(v, w / sum(weights)) for v, w in zip(views, weights)]
    return r


def onecycle(r, step, total):
    """scratchnet's onecycle factor of a step (src/core/sched.c)."""
    if r["schedule"] == "constant":
        return 1.0
    last = total - 1
    peak = r["warmup_steps"] if r["warmup_steps"] is not None \
        else r["warmup_fraction"] * total - 1
    a, e = r["lr_start_factor"], r["lr_end_factor"]
    if step >= last:
        return e
    if step <= peak:
        return a + (1 - a) * step / peak if peak > 0 else 1.0
    return 1 + (e - 1) * (step - peak) / (last - peak)


def param_groups(net, sections, r):
    """One optimizer group per (lr_mult, wd_mult), as scratchnet's parameter groups."""
    layers = [(w, kv) for w, kv in sections if w not in ("net", "augment")]
    groups = {}
    for i, (word, kv) in enumerate(layers):
        name = kv.get("name", "%s%d" % (word, i))
        module = net.layers[scratchnet_torch.key_of(name)]
        for pname, p in module.named_parameters():
            if not p.requires_grad:
                continue
            kind = "norm" if word == "batchnorm" else "bias" if pname.endswith("bias") else "weight"
            lm = float(kv.get("lr_mult", 1)) * r["mults"][kind][0]
            wm = float(kv.get("wd_mult", 1)) * r["mults"][kind][1]
            groups.setdefault((lm, wm), []).append(p)
    return [{"params": ps, "lr": r["lr"] * lm, "weight_decay": r["weight_decay"] * wm,
             "lr_mult": lm, "wd_mult": wm} for (lm, wm), ps in groups.items()]


def dirac_init(net, sections):
    layers = [(w, kv) for w, kv in sections if w not in ("net", "augment")]
    for i, (word, kv) in enumerate(layers):
        if word == "conv" and kv.get("init") == "dirac":
            conv = net.layers[scratchnet_torch.key_of(kv.get("name", "conv%d" % i))][0]
            w = conv.weight.data
            n = min(w.shape[0], w.shape[1])
            n = int(round(float(kv.get("dirac_fraction", 1)) * n))
            if n:
                torch.nn.init.dirac_(w[:n])
            conv.bias.data.zero_()


def whiten_init(net, sections, xtr, scale):
    """init = whiten as scratchnet computes it (docs/FORMATS.md): the conv's
    filters are the eigenvectors of the second moments of its K x K windows
    over the first whiten_images training images, largest first, each signed
    by its largest component, over sqrt(eigenvalue + whiten_eps), followed by
    their negatives when filters = 2 C K K; zero bias.  Returns the weights
    to freeze (freeze = weight)."""
    frozen = []
    layers = [(w, kv) for w, kv in sections if w not in ("net", "augment")]
    for i, (word, kv) in enumerate(layers):
        if word != "conv" or kv.get("init") != "whiten":
            continue
        conv = net.layers[scratchnet_torch.key_of(kv.get("name", "conv%d" % i))][0]
        o, c, k, _ = conv.weight.shape
        n_img, m, windows = int(kv.get("whiten_images", 5000)), 0, 0
        for at in range(0, min(n_img, len(xtr)), 250):   # 250 images at a time: memory
            x = xtr[at:min(at + 250, n_img)].double() * scale
            p = x.unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, c * k * k)
            m, windows = m + p.T @ p, windows + p.shape[0]
        lam, vec = torch.linalg.eigh(m / windows)
        lam, vec = lam.flip(0), vec.T.flip(0)
        sign = torch.sign(vec[torch.arange(vec.shape[0]), vec.abs().argmax(dim=1)])
        w = vec * sign[:, None] / torch.sqrt(lam.clamp(min=0) + float(kv.get("whiten_eps", 5e-4)))[:, None]
        w = torch.cat([w, -w]) if o == 2 * w.shape[0] else w[:o]
        with torch.no_grad():
            conv.weight.copy_(w.reshape(o, c, k, k).float())
            conv.bias.zero_()
        if kv.get("freeze") == "weight":
            conv.weight.requires_grad_(False)
            frozen.append(conv.weight)
    return frozen


class Lookahead:
    """[net] lookahead_k, lookahead_alpha (Zhang et al. 2019), as scratchnet:
    slow weights from before step 1; after every k-th step slow += alpha (w -
    slow), w = slow."""
    def __init__(self, params, k, alpha):
        self.params, self.k, self.alpha, self.t = params, k, alpha, 0
        self.slow = [q.detach().clone() for q in params]

    def after_step(self):
        self.t += 1
        if self.k and self.t % self.k == 0:
            with torch.no_grad():
                for q, s in zip(self.params, self.slow):
                    s.add_(self.alpha * (q - s))
                    q.copy_(s)


def view(x, dy, dx, flip):
    """Translate by (dy, dx) with reflection, then mirror (scratchnet's test view)."""
    p = max(abs(dy), abs(dx))
    if p:
        h, w = x.shape[-2:]
        x = F.pad(x, (p, p, p, p), mode="reflect")[:, :, p - dy:p - dy + h, p - dx:p - dx + w]
    return x.flip(-1) if flip else x


def evaluate(net, x, y, scale, views, chunk=500, channels_last=False):
    net.eval()
    correct = 0
    with torch.no_grad():
        for at in range(0, len(x), chunk):
            xb = x[at:at + chunk].float() * scale
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            z = sum(w * net(view(xb, *v)) for v, w in views) if views else net(xb)
            correct += int((z.argmax(1) == y[at:at + chunk]).sum())
    net.train()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/cifar_fast.cfg")
    ap.add_argument("--data", default="data/cifar10.h5")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0, help="stop after N steps (timing)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--log")
    ap.add_argument("--nchw", action="store_true",
                    help="plain NCHW tensors (default: channels_last)")
    ap.add_argument("--test-rows", type=int, default=0, help="evaluate N rows spread over the test split (checks)")
    a = ap.parse_args()
    a.channels_last = not a.nchw
    torch.set_num_threads(a.threads)
    cfg = open(a.model).read()
    sections = scratchnet_torch.parse_cfg(cfg)
    r = recipe(sections)
    epochs = a.epochs if a.epochs is not None else r["epochs"]
    torch.manual_seed(a.seed if a.seed is not None else r["seed"])
    xtr, ytr, scale = load(a.data, "train")
    xte, yte, tscale = load(a.data, "test")
    if a.test_rows > 0:   # spread over the split, which may be sorted by class
        k = max(1, len(xte) // a.test_rows)
        xte, yte = xte[::k][:a.test_rows], yte[::k][:a.test_rows]
    T = r["translate"]
    xpad = torch.cat([F.pad(xtr[i:i + 5000].float(), (T,) * 4, mode="reflect").to(torch.uint8)
                      for i in range(0, len(xtr), 5000)]) if T else xtr
    phase = torch.randint(0, 2, (len(xtr),))
    net = scratchnet_torch.Net(cfg)
    dirac_init(net, sections)
    whiten_init(net, sections, xtr, scale)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
    groups = param_groups(net, sections, r)
    decoupled = bool(r["decoupled_weight_decay"])
    opt = torch.optim.SGD([dict(g, weight_decay=0.0 if decoupled else g["weight_decay"])
                           for g in groups], lr=r["lr"], momentum=r["momentum"],
                          nesterov=bool(r["nesterov"]))
    net_kv = dict(sections[0][1])
    look = Lookahead([q for g in groups for q in g["params"]], int(net_kv.get("lookahead_k", 0)),
                     float(net_kv.get("lookahead_alpha", 0.5)))
    B, N = r["batch"], len(xtr)
    steps_per_epoch = N // B
    total = a.steps if a.steps > 0 else steps_per_epoch * epochs
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=r["label_smoothing"])
    log = open(a.log, "a") if a.log else None
    step, elapsed = 0, 0.0
    net.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(N)
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(steps_per_epoch):
            if step >= total:
                break
            if step == WARMUP and epoch == 0:   # images/s of epoch 1: after the warm-up
                t_warm, seen_warm = time.perf_counter(), seen
            idx = perm[s * B:(s + 1) * B]
            if T:
                shifts = torch.randint(-T, T + 1, (B, 2))
                xb = torch.empty((B,) + tuple(xtr.shape[1:]), dtype=torch.uint8)
                h, w = xtr.shape[-2:]
                for sy in range(-T, T + 1):
                    for sx in range(-T, T + 1):
                        m = (shifts[:, 0] == sy) & (shifts[:, 1] == sx)
                        if m.any():
                            xb[m] = xpad[idx[m], :, T - sy:T - sy + h, T - sx:T - sx + w]
            else:
                xb = xtr[idx]
            xb = xb.float() * scale
            if r["flip"] == "alternate":
                flip = ((phase[idx] + epoch) % 2 == 1).view(-1, 1, 1, 1)
                xb = torch.where(flip, xb.flip(-1), xb)
            elif r["flip"] == "1":
                xb = torch.where(torch.rand(B).view(-1, 1, 1, 1) < 0.5, xb.flip(-1), xb)
            if a.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            f = onecycle(r, step, total)
            for g in opt.param_groups:
                g["lr"] = r["lr"] * g["lr_mult"] * f
            if decoupled:
                with torch.no_grad():
                    for g in opt.param_groups:
                        for p in g["params"]:
                            p.mul_(1 - g["lr"] * r["weight_decay"] * g["wd_mult"])
            z = net(xb)
            loss = loss_fn(z, ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            look.after_step()
            step += 1
            loss_sum += float(loss) * B
            correct += int((z.argmax(1) == ytr[idx]).sum())
            seen += B
        train_s = time.perf_counter() - t0
        elapsed += train_s
        if epoch == 0 and step > WARMUP:
            ips = (seen - seen_warm) / (time.perf_counter() - t_warm)
        else:
            ips = seen / train_s
        last = epoch + 1 == epochs or step >= total
        row = {"epoch": epoch + 1, "step": step, "train_loss": loss_sum / max(seen, 1),
               "train_acc": correct / max(seen, 1), "lr": r["lr"] * onecycle(r, step - 1, total),
               "images_per_s": ips, "ranks": 1, "threads": a.threads}
        if (epoch + 1) % a.eval_every == 0 or last:
            t1 = time.perf_counter()
            row["test_acc"] = evaluate(net, xte, yte, tscale, None, channels_last=a.channels_last)
            elapsed += time.perf_counter() - t1
        row["elapsed_s"] = elapsed
        print("epoch %d/%d  step %d  train loss %.4f acc %.2f%%%s  %.1f img/s  %.1f s" % (
            epoch + 1, epochs, step, row["train_loss"], 100 * row["train_acc"],
            "  test acc %.2f%%" % (100 * row["test_acc"]) if "test_acc" in row else "",
            row["images_per_s"], elapsed), flush=True)
        if log:
            log.write(json.dumps(row) + "\n")
            log.flush()
        if last:
            break
    if r["views"]:
        t1 = time.perf_counter()
        acc = evaluate(net, xte, yte, tscale, r["views"], channels_last=a.channels_last)
        elapsed += time.perf_counter() - t1
        print("test with %d views: accuracy %.2f%%  (%.1f s in all)" % (len(r["views"]),
                                                                       100 * acc, elapsed))


if __name__ == "__main__":
    main()
