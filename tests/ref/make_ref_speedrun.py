#!/usr/bin/python3
"""Generate tests/ref/ref_speedrun.h: PyTorch references for the whitening
initialisation (init = whiten) and for Lookahead.

Run once, offline, with Debian's python3-torch:
    /usr/bin/python3 tests/ref/make_ref_speedrun.py
The tests never run this script.  Everything is computed in float64 from
the float32 values the header holds, and written as float32 (the moments
and eigenvalues as double).

Whitening, as airbench94.py's init_whitening_conv (KellerJordan/
cifar10-airbench): the windows of every image (x.unfold, stride 1, no
padding) as rows of P, the second moment S = P^T P / N, its eigenvectors
by torch.linalg.eigh in order of decreasing eigenvalue, each divided by
sqrt(eigenvalue + eps), then the negatives.  airbench leaves an
eigenvector's sign to eigh; here (as in src/core/whiten.c) each is signed
so that its largest component (the first of equal ones) is positive.

Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1
step back", Algorithm 1): torch has none built in, so the wrapper below
keeps the slow weights from the initial ones and after every k-th step of
the inner optimizer sets slow += alpha (fast - slow), fast = slow; the
inner optimizer's state is kept across the syncs.
"""
import torch

torch.manual_seed(21)
out = []


def arr(name, t):
    v = t.detach().double().flatten().tolist()
    out.append("static const float %s[%d] = { %s };" %
               (name, len(v), ", ".join(("%.9e" % x) + "f" for x in v)))


def darr(name, t):
    v = t.detach().double().flatten().tolist()
    out.append("static const double %s[%d] = { %s };" %
               (name, len(v), ", ".join("%.17g" % x for x in v)))


# ---- whitening ---------------------------------------------------------------
EPS = 5e-4


def images(B, C, H, W):
    """Correlated images: neighbouring pixels and the channels share most of
    their values, as in photographs, so the eigenvalues spread."""
    x = torch.randn(B, C, H + 2, W + 2, dtype=torch.float64)
    x = (x[:, :, :-2, :-2] + x[:, :, 1:-1, 1:-1] + x[:, :, 2:, 2:]) / 3   # smooth
    mix = torch.eye(C, dtype=torch.float64) * 0.4 + 0.6 / C
    x = torch.einsum("dc,bchw->bdhw", mix, x) + 0.1
    return x.float().double()   # the float32 values the header holds


def whiten(prefix, B, C, H, W, K):
    x = images(B, C, H, W)
    n = C * K * K
    p = x.unfold(2, K, 1).unfold(3, K, 1)              # B, C, OH, OW, K, K
    p = p.permute(0, 2, 3, 1, 4, 5).reshape(-1, n)     # rows (c, ky, kx)
    m = p.T @ p
    s = m / p.shape[0]
    lam, vec = torch.linalg.eigh(s)
    lam, vec = lam.flip(0), vec.T.flip(0)              # rows, largest first
    big = vec.abs().argmax(dim=1)
    sign = torch.sign(vec[torch.arange(n), big])
    vec = vec * sign[:, None]
    w = vec / torch.sqrt(lam.clamp(min=0) + EPS)[:, None]
    arr(prefix + "_x", x)
    darr(prefix + "_m", m)
    darr(prefix + "_lambda", lam)
    arr(prefix + "_w", torch.cat([w, -w]))
    out.append("enum { %s_B = %d, %s_C = %d, %s_H = %d, %s_W = %d, %s_K = %d, %s_windows = %d };"
               % (prefix, B, prefix, C, prefix, H, prefix, W, prefix, K, prefix, p.shape[0]))


whiten("whiten2", 5, 3, 6, 7, 2)    # n = 12
whiten("whiten3", 6, 3, 9, 8, 3)    # n = 27
out.append("static const double whiten_eps = %.17g;" % EPS)

# a symmetric matrix with a repeated eigenvalue (3, 3) and a zero one, for the solvers
q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))
d = torch.tensor([3.0, 3.0, 0.0, -1.5, 0.25, 7.0], dtype=torch.float64)
a = (q * d) @ q.T
a = (a + a.T) / 2
darr("eigh_a6", a)
darr("eigh_a6_w", torch.linalg.eigh(a)[0])


# ---- Lookahead ---------------------------------------------------------------
class Lookahead:
    def __init__(self, inner, k, alpha):
        self.inner, self.k, self.alpha, self.t = inner, k, alpha, 0
        self.params = [p for g in inner.param_groups for p in g["params"]]
        self.slow = [p.detach().clone() for p in self.params]

    def step(self):
        self.inner.step()
        self.t += 1
        if self.t % self.k == 0:
            with torch.no_grad():
                for p, s in zip(self.params, self.slow):
                    s.add_(self.alpha * (p - s))
                    p.copy_(s)


STEPS, LA_K, LA_ALPHA = 8, 3, 0.5
w0 = torch.randn(5, dtype=torch.float64).float().double()
grads = torch.randn(STEPS, 5, dtype=torch.float64).float().double()
arr("lookahead_w0", w0)
arr("lookahead_grads", grads)
out.append("enum { lookahead_steps = %d, lookahead_k = %d };" % (STEPS, LA_K))
out.append("static const float lookahead_alpha = %.9ef;" % LA_ALPHA)
configs = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                      weight_decay=0.01)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01)),
]
for name, make in configs:
    w = w0.clone().requires_grad_(True)
    la = Lookahead(make([w]), LA_K, LA_ALPHA)
    traj = []
    for g in grads:
        w.grad = g.clone()
        la.step()
        traj.append(w.detach().clone())
    arr("lookahead_%s_traj" % name, torch.stack(traj))
    arr("lookahead_%s_slow" % name, la.slow[0])

with open("tests/ref/ref_speedrun.h", "w") as f:
    f.write("/* Generated by tests/ref/make_ref_speedrun.py with PyTorch %s; do not edit. */\n"
            % torch.__version__)
    f.write("#ifndef SN_TESTS_REF_SPEEDRUN_H\n#define SN_TESTS_REF_SPEEDRUN_H\n\n")
    f.write("\n".join(out))
    f.write("\n\n#endif\n")
print("wrote tests/ref/ref_speedrun.h")
