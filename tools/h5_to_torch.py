#!/usr/bin/python3
"""h5_to_torch: a scratchnet weights file (or checkpoint) as a PyTorch
state_dict, with the module to load it into.

    tools/h5_to_torch.py W.h5 -o W.pt [--module net.py]

W.pt holds the state_dict of scratchnet_torch.Net built from the model text
stored in W.h5 (/model cfg); --module writes a self-contained Python file
with that module class and the model text:

    import torch, net
    model = net.make()                      # the network, in eval mode
    model.load_state_dict(torch.load("W.pt"))

Needs Debian's python3-h5py and python3-torch (never needed by scratchnet).
"""
import argparse
import os
import sys

import h5py
import torch

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


def write_module(path, cfg):
    src = open(scratchnet_torch.__file__).read()
    with open(path, "w") as out:
        out.write(src)
        out.write("\n\nCFG = %r\n\n\ndef make():\n    \"\"\"The network of CFG, in eval mode.\"\"\"\n"
                  "    net = Net(CFG)\n    net.eval()\n    return net\n" % cfg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--module")
    a = ap.parse_args()
    state, cfg = convert(a.weights)
    torch.save(state, a.out)
    if a.module:
        write_module(a.module, cfg)
    print("wrote %s (%d tensors)%s" % (a.out, len(state),
                                       " and " + a.module if a.module else ""))


if __name__ == "__main__":
    main()
