#!/usr/bin/python3
"""Generate tests/ref/ref_core.h: reference vectors from PyTorch.

Run once, offline, with Debian's python3-torch:  /usr/bin/python3 tests/ref/make_ref.py
The tests never run this script; they compare against the committed header.
Everything is computed in float64 and rounded to float32 once, so the
references are as exact as float32 can hold them.
"""
import torch

torch.manual_seed(0)
out = []


def arr(name, t):
    v = t.detach().double().flatten().tolist()
    body = ", ".join(("%.9e" % x) + "f" for x in v)
    out.append("static const float %s[%d] = { %s };" % (name, len(v), body))


def scalar(name, v):
    out.append("static const double %s = %.17g;" % (name, v))


# ---- dense: y = act(x W^T + b), L = sum(r * y) -------------------------------
B, I, O = 3, 5, 4
for act in ["linear", "relu", "sigmoid", "tanh"]:
    x = torch.randn(B, I, dtype=torch.float64, requires_grad=True)
    lin = torch.nn.Linear(I, O).double()
    r = torch.randn(B, O, dtype=torch.float64)
    z = lin(x)
    y = {"linear": z, "relu": torch.relu(z), "sigmoid": torch.sigmoid(z),
         "tanh": torch.tanh(z)}[act]
    (y * r).sum().backward()
    p = "dense_" + act
    arr(p + "_x", x); arr(p + "_w", lin.weight); arr(p + "_b", lin.bias)
    arr(p + "_r", r); arr(p + "_y", y)
    arr(p + "_dx", x.grad); arr(p + "_dw", lin.weight.grad); arr(p + "_db", lin.bias.grad)

# ---- losses (mean reduction), logits (B, K) ----------------------------------
B, K = 4, 3
z = torch.randn(B, K, dtype=torch.float64) * 2
labels = torch.tensor([2, 0, 1, 1])
t = torch.rand(B, K, dtype=torch.float64)
arr("loss_z", z); arr("loss_t", t)
out.append("static const int loss_labels[4] = { 2, 0, 1, 1 };")
for name, fn in [("ce", lambda zz: torch.nn.functional.cross_entropy(zz, labels)),
                 ("bce", lambda zz: torch.nn.functional.binary_cross_entropy_with_logits(zz, t)),
                 ("mse", lambda zz: torch.nn.functional.mse_loss(zz, t))]:
    zz = z.clone().requires_grad_(True)
    l = fn(zz)
    l.backward()
    scalar("loss_%s_value" % name, l.item())
    arr("loss_%s_dz" % name, zz.grad)
# cross-entropy with label smoothing 0.1 (nn.CrossEntropyLoss label_smoothing)
zz = z.clone().requires_grad_(True)
l = torch.nn.functional.cross_entropy(zz, labels, label_smoothing=0.1)
l.backward()
scalar("loss_ce_ls_value", l.item())
arr("loss_ce_ls_dz", zz.grad)

# ---- optimizers: 3 steps from w0 with fixed gradients ------------------------
w0 = torch.randn(5, dtype=torch.float64)
grads = [torch.randn(5, dtype=torch.float64) for _ in range(3)]
arr("optim_w0", w0)
arr("optim_grads", torch.stack(grads))
configs = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                               weight_decay=0.01)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.05)),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.01)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, weight_decay=0.01)),
    ("rmsprop_momentum", lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9)),
]
for name, make in configs:
    w = w0.clone().requires_grad_(True)
    opt = make([w])
    traj = []
    for g in grads:
        w.grad = g.clone()
        opt.step()
        traj.append(w.detach().clone())
    arr("optim_%s_traj" % name, torch.stack(traj))

# ---- dense + GELU (both forms), drawn after everything above ----------------
B, I, O = 3, 5, 4
for act, approx in [("gelu", "none"), ("gelu_tanh", "tanh")]:
    x = torch.randn(B, I, dtype=torch.float64, requires_grad=True)
    lin = torch.nn.Linear(I, O).double()
    r = torch.randn(B, O, dtype=torch.float64)
    y = torch.nn.functional.gelu(lin(x) * 2, approximate=approx)   # wider range of z
    (y * r).sum().backward()
    p = "dense_" + act
    arr(p + "_x", x); arr(p + "_w", lin.weight * 2); arr(p + "_b", lin.bias * 2)
    arr(p + "_r", r); arr(p + "_y", y)
    arr(p + "_dx", x.grad); arr(p + "_dw", lin.weight.grad / 2); arr(p + "_db", lin.bias.grad / 2)

# ---- parameter groups and decoupled weight decay (SGDW), 3 steps -------------
# w0[:3] in a group at lr 0.1 * 2 and weight_decay 0.01 * 0.5 (lr_mult 2,
# wd_mult 0.5), w0[3:] at lr 0.1, weight_decay 0.01: PyTorch's param groups.
# Decoupled: before each step p *= 1 - lr wd (the group's), then SGD with no
# weight decay (AdamW's rule for SGD: Loshchilov & Hutter's SGDW).
for name, decoupled in [("sgd_groups", False), ("sgdw_groups", True)]:
    a = w0[:3].clone().requires_grad_(True)
    b = w0[3:].clone().requires_grad_(True)
    wd = 0.0 if decoupled else 0.01
    opt = torch.optim.SGD([{"params": [a], "lr": 0.2, "weight_decay": wd * 0.5},
                           {"params": [b]}], lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=wd)
    traj = []
    for g in grads:
        if decoupled:
            with torch.no_grad():
                a.mul_(1 - 0.2 * 0.005)
                b.mul_(1 - 0.1 * 0.01)
        a.grad = g[:3].clone()
        b.grad = g[3:].clone()
        opt.step()
        traj.append(torch.cat([a.detach(), b.detach()]))
    arr("optim_%s_traj" % name, torch.stack(traj))

# ---- OneCycleLR, linear: the lr of every step -------------------------------
# (lr 0.4, start factor 0.2, end factor 0.07): 50 steps with pct_start 0.25
# (peak at step 11.5), and 40 steps (peak at step 9 = warmup_steps)
for name, total in [("sched_onecycle50", 50), ("sched_onecycle40", 40)]:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.4)
    sch = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.4, total_steps=total, pct_start=0.25, anneal_strategy="linear",
        cycle_momentum=False, div_factor=1 / 0.2, final_div_factor=0.2 / 0.07)
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    arr(name, torch.tensor(lrs, dtype=torch.float64))

# ---- test-time views: reflect padding, crop, then mirror (airbench's) --------
# x: 2 examples of (2, 5, 6); view (dy, dx): F.pad(x, reflect) cropped so the
# content moves down by dy and right by dx; then flipped when asked
x = torch.randn(2, 2, 5, 6, dtype=torch.float64)
arr("view_x", x)
for name, dy, dx, flip in [("view_1_1", 1, 1, False), ("view_m1_m1_flip", -1, -1, True),
                           ("view_2_m3", 2, -3, False), ("view_0_0_flip", 0, 0, True)]:
    p = 3
    xp = torch.nn.functional.pad(x, (p, p, p, p), mode="reflect")
    v = xp[:, :, p - dy:p - dy + 5, p - dx:p - dx + 6]
    if flip:
        v = v.flip(-1)
    arr(name, v)

with open("tests/ref/ref_core.h", "w") as f:
    f.write("/* Generated by tests/ref/make_ref.py with PyTorch %s; do not edit. */\n"
            % torch.__version__)
    f.write("#ifndef SN_TESTS_REF_CORE_H\n#define SN_TESTS_REF_CORE_H\n\n")
    f.write("\n".join(out))
    f.write("\n\n#endif\n")
print("wrote tests/ref/ref_core.h")
