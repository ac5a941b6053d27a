#!/usr/bin/python3
"""h5_to_torch: a scratchnet weights file (or checkpoint) as a PyTorch
state_dict, with the module to load it into.

    tools/h5_to_torch.py W.h5 -o W.pt [--module net.py]

W.pt holds the state_dict of scratchnet_torch.Net built from the model text
stored in W.h5 (/model cfg); --module writes a self-contained Python file
with that module class, the model text, and how the training data was
prepared and named (what train --out keeps in W.h5):

    import torch, net
    model = net.make()                      # the network, in eval mode
    model.load_state_dict(torch.load("W.pt"))
    probs = model(net.prepare(stored_values)).softmax(1)
    net.CLASSES[probs.argmax(1)[0]]         # a class name (None if W.h5 had none)

tools/torch_to_h5.py --module net.py writes the preparation and the names
back, so scratchnet predict prints class names after a round trip.

Needs Debian's python3-h5py and python3-torch (never needed by scratchnet).
"""
import argparse
import os
import sys

try:
    import h5py
    import numpy as np
    import torch
except ImportError as e:   # a one-line answer, not a traceback
    sys.exit(f"{os.path.basename(sys.argv[0])}: {e.name} is missing: run it with Debian's "
             f"/usr/bin/python3 with python3-h5py and python3-torch installed "
             f"(apt-get install python3-h5py python3-torch)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scratchnet_torch  # noqa: E402


def read_cfg(f):
    cfg = f["/model"].attrs["cfg"]
    return cfg.decode() if isinstance(cfg, bytes) else str(cfg)


def convert(h5_path):
    """(state_dict, model text) of a scratchnet weights file."""
    with h5py.File(h5_path, "r") as f:
        cfg = read_cfg(f)
        net = scratchnet_torch.Net(cfg)
        state = net.state_dict()
        done = set()
        for layer in f["/params"]:
            for param in f["/params"][layer]:
                key = net.state_key(layer, param)
                if key not in state:
                    raise SystemExit("h5_to_torch: %s has /params/%s/%s, which the module "
                                     "has no place for" % (h5_path, layer, param))
                value = torch.from_numpy(f["/params"][layer][param][...])
                if tuple(value.shape) != tuple(state[key].shape):
                    raise SystemExit("h5_to_torch: /params/%s/%s has shape %s, the module %s"
                                     % (layer, param, tuple(value.shape),
                                        tuple(state[key].shape)))
                state[key] = value
                done.add(key)
        missing = [k for k in state if k not in done and not k.endswith("num_batches_tracked")]
        if missing:
            raise SystemExit("h5_to_torch: %s lacks %s" % (h5_path, ", ".join(missing)))
    return state, cfg


def read_meta(h5_path):
    """{scale, mean, std, classes} from /model's attributes (None where absent)."""
    with h5py.File(h5_path, "r") as f:
        a = f["/model"].attrs

        def floats(name):
            return [float(v) for v in np.atleast_1d(a[name])] if name in a else None
        classes = [c.decode() if isinstance(c, bytes) else str(c)
                   for c in np.atleast_1d(a["classes"])] if "classes" in a else None
        scale = float(np.atleast_1d(a["input_scale"])[0]) if "input_scale" in a else None
        block = (int(np.atleast_1d(a["input_norm_block"])[0])
                 if "input_norm_block" in a else None)
        return {"scale": scale, "mean": floats("input_mean"), "std": floats("input_std"),
                "block": block, "classes": classes}


PREPARE = '''

def prepare(x):
    """Stored values (N, sample...) -- uint8 pixels, raw features -- as the
    network's input, the way scratchnet prepares them: x * INPUT_SCALE, then
    (x - INPUT_MEAN) / INPUT_STD, element k of a sample taking value
    (k // INPUT_NORM_BLOCK) % len(INPUT_MEAN) (one a channel of (C, H, W)
    samples, one a feature of (F) and (T, F) ones); without a block, per
    channel of (C, H, W) samples (axis 1) or per feature (the last axis)."""
    scale = INPUT_SCALE if INPUT_SCALE is not None else 1.0 / 255.0
    x = torch.as_tensor(x).to(torch.float32) * scale
    if INPUT_MEAN is not None:
        m = torch.tensor(INPUT_MEAN, dtype=torch.float32)
        s = torch.tensor(INPUT_STD, dtype=torch.float32)
        if INPUT_NORM_BLOCK is not None and len(INPUT_MEAN) > 1:
            flat = x.reshape(x.shape[0], -1)
            k = (torch.arange(flat.shape[1]) // INPUT_NORM_BLOCK) % len(INPUT_MEAN)
            return ((flat - m[k]) / s[k]).reshape(x.shape)
        if x.dim() >= 4 and len(INPUT_MEAN) > 1:
            shape = [1, len(INPUT_MEAN)] + [1] * (x.dim() - 2)
            m, s = m.view(shape), s.view(shape)
        x = (x - m) / s
    return x
'''


def write_module(path, cfg, meta):
    src = open(scratchnet_torch.__file__).read()
    with open(path, "w") as out:
        out.write(src)
        out.write("\n\nCFG = %r\n\n\ndef make():\n    \"\"\"The network of CFG, in eval mode.\"\"\"\n"
                  "    net = Net(CFG)\n    net.eval()\n    return net\n" % cfg)
        out.write("\n\n# How the training data was prepared and named (the weights file's /model\n"
                  "# input_scale, input_mean, input_std, input_norm_block, classes; None: not\n"
                  "# stored there, and prepare() then divides by 255 as scratchnet predict does).\n"
                  "INPUT_SCALE = %r\nINPUT_MEAN = %r\nINPUT_STD = %r\nINPUT_NORM_BLOCK = %r\n"
                  "CLASSES = %r\n"
                  % (meta["scale"], meta["mean"], meta["std"], meta["block"], meta["classes"]))
        out.write(PREPARE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--module")
    a = ap.parse_args()
    state, cfg = convert(a.weights)
    torch.save(state, a.out)
    if a.module:
        write_module(a.module, cfg, read_meta(a.weights))
    print("wrote %s (%d tensors)%s" % (a.out, len(state),
                                       " and " + a.module if a.module else ""))


if __name__ == "__main__":
    main()
