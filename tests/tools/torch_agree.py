#!/usr/bin/python3
"""Helper of tests/tools/test_torch.c (needs python3-torch and python3-h5py).

    torch_agree.py init CFG OUT.pt SEED     a freshly initialised Net(CFG)'s
                                            state_dict (batchnorm running
                                            statistics made non-trivial)
    torch_agree.py check CFG|MODULE.py STATE.pt DATA.h5 PRED.h5
                                            PyTorch's softmax of /test/x
                                            (prepared by MODULE.prepare, or
                                            scaled by its attribute) against
                                            scratchnet predict's /probs;
                                            exit 1 above 1e-4
    torch_agree.py whiten W.h5 LAYER DATA.h5 N EPS
                                            airbench's whitening filters
                                            (init_whitening_conv, signed by
                                            their largest component) of the
                                            first N /train/x images, scaled,
                                            against LAYER's weight in W.h5;
                                            exit 1 above 1e-5 of the largest
"""
import importlib.util
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tools"))
import scratchnet_torch  # noqa: E402


def whiten(weights, layer, data, n, eps):
    with h5py.File(data, "r") as f:
        x = f["/train/x"][:n].astype(np.float64) * np.float32(f["/train/x"].attrs.get("scale", 1))
    with h5py.File(weights, "r") as f:
        got = torch.from_numpy(f["/params/%s/weight" % layer][...].astype(np.float64))
    x = torch.from_numpy(x).float().double()   # the float32 inputs scratchnet sees
    c, k = got.shape[1], got.shape[2]
    p = x.unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, c * k * k)
    lam, vec = torch.linalg.eigh(p.T @ p / p.shape[0])
    lam, vec = lam.flip(0), vec.T.flip(0)
    vec = vec * torch.sign(vec[torch.arange(len(lam)), vec.abs().argmax(1)])[:, None]
    w = vec / torch.sqrt(lam.clamp(min=0) + eps)[:, None]
    w = torch.cat([w, -w]) if got.shape[0] == 2 * len(lam) else w
    diff = float((w - got.reshape(w.shape)).abs().max())
    print("whitening filters of %s: max |torch - scratchnet| = %.3g, largest %.3g "
          "(eigenvalues %.4g to %.4g)" % (layer, diff, float(w.abs().max()), lam[0], lam[-1]))
    return 0 if diff <= 1e-5 * float(w.abs().max()) else 1


def main():
    cmd = sys.argv[1]
    if cmd == "whiten":
        return whiten(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                      float(sys.argv[6]))
    if cmd == "init":
        cfg, out, seed = sys.argv[2], sys.argv[3], int(sys.argv[4])
        torch.manual_seed(seed)
        net = scratchnet_torch.Net(open(cfg).read())
        with torch.no_grad():
            # a sharper head than a fresh initialisation, so the softmax is far
            # from uniform and a 1e-4 agreement means something
            last = [p for n, p in net.named_parameters() if n.endswith("weight")][-1]
            last.mul_(20.0)
            for name, buf in net.named_buffers():
                if name.endswith("running_mean"):
                    buf.uniform_(-0.2, 0.2)
                elif name.endswith("running_var"):
                    buf.uniform_(0.5, 1.5)
        torch.save(net.state_dict(), out)
        return 0
    src, state, data, pred = sys.argv[2:6]
    if src.endswith(".py"):
        spec = importlib.util.spec_from_file_location("generated", src)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        net = mod.make()
    else:
        net = scratchnet_torch.Net(open(src).read())
    net.load_state_dict(torch.load(state))
    net.eval()
    with h5py.File(data, "r") as f:
        if src.endswith(".py"):   # the generated module prepares stored values itself
            x = mod.prepare(f["/test/x"][...])
        else:
            x = torch.from_numpy(f["/test/x"][...].astype(np.float32)
                                 * float(f["/test/x"].attrs.get("scale", 1.0)))
    with torch.no_grad():
        p = net(x).softmax(1).numpy()
    with h5py.File(pred, "r") as f:
        q = f["/probs"][...]
    diff = float(np.abs(p - q).max())
    n = len(set(p.argmax(1)))
    print("max |p_torch - p_scratchnet| = %.3g over %d x %d (largest p %.3f, %d class%s "
          "predicted)" % (diff, p.shape[0], p.shape[1], p.max(), n, "" if n == 1 else "es"))
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
