#!/usr/bin/python3
"""torch_to_h5: a PyTorch state_dict as a scratchnet weights file.

    tools/torch_to_h5.py W.pt --model M.cfg -o W.h5 [--by-order]
    tools/torch_to_h5.py W.pt --module net.py -o W.h5

By default the state_dict's keys are those of scratchnet_torch.Net for
M.cfg (what tools/h5_to_torch.py writes).  --by-order takes any state_dict
(your own nn.Sequential, say) and assigns its tensors in order to the
model's parameters in order, checking every shape: the layouts are the
same as PyTorch's, only the names differ.  BatchNorm's num_batches_tracked
is skipped.  W.h5 gets /model cfg (the text of M.cfg) and
/params/<layer>/<param>, readable by scratchnet eval, predict, train --init.
--module net.py (a module tools/h5_to_torch.py wrote) takes the model text
from it (unless --model is given) and writes its INPUT_SCALE, INPUT_MEAN,
INPUT_STD, INPUT_NORM_BLOCK and CLASSES back as /model input_scale,
input_mean, input_std, input_norm_block and classes: predict and export then
prepare inputs and name classes as the original weights file did.

Needs Debian's python3-h5py and python3-torch (never needed by scratchnet).
"""
import argparse
import importlib.util
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

# scratchnet's parameters per layer kind, in its arena order
PARAMS = {"dense": ["weight", "bias"], "conv": ["weight", "bias"],
          "batchnorm": ["weight", "bias", "running_mean", "running_var"],
          "rnn": ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]}
PARAMS["lstm"] = PARAMS["gru"] = PARAMS["rnn"]


def load_module(path):
    spec = importlib.util.spec_from_file_location("scratchnet_generated", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, "CFG"):
        raise SystemExit("torch_to_h5: %s has no CFG: not a module h5_to_torch.py wrote" % path)
    return mod


def write_meta(group, mod):
    """The module's INPUT_SCALE, INPUT_MEAN, INPUT_STD, INPUT_NORM_BLOCK, CLASSES as
    /model attributes."""
    if getattr(mod, "INPUT_SCALE", None) is not None:
        group.attrs["input_scale"] = float(mod.INPUT_SCALE)
    if getattr(mod, "INPUT_MEAN", None) is not None:
        group.attrs["input_mean"] = np.asarray(mod.INPUT_MEAN, dtype=np.float64)
        group.attrs["input_std"] = np.asarray(mod.INPUT_STD, dtype=np.float64)
        if getattr(mod, "INPUT_NORM_BLOCK", None) is not None:
            group.attrs["input_norm_block"] = float(mod.INPUT_NORM_BLOCK)
    if getattr(mod, "CLASSES", None):
        group.attrs["classes"] = [str(c) for c in mod.CLASSES]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("state")
    ap.add_argument("--model")
    ap.add_argument("--module")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--by-order", action="store_true")
    a = ap.parse_args()
    if not a.model and not a.module:
        raise SystemExit("torch_to_h5: needs --model M.cfg or --module net.py")
    mod = load_module(a.module) if a.module else None
    cfg = open(a.model).read() if a.model else mod.CFG
    net = scratchnet_torch.Net(cfg)
    shapes = net.state_dict()
    state = torch.load(a.state, map_location="cpu")
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    wanted = [(layer, p) for layer, kind in zip(net.names, net.kinds) for p in PARAMS.get(kind, [])]
    if a.by_order:
        tensors = [(k, v) for k, v in state.items() if not k.endswith("num_batches_tracked")]
        if len(tensors) != len(wanted):
            raise SystemExit("torch_to_h5: the state_dict has %d tensors, %s needs %d"
                             % (len(tensors), a.model or a.module, len(wanted)))
        pairs = [(w, t) for w, t in zip(wanted, tensors)]
    else:
        pairs = []
        for w in wanted:
            key = net.state_key(*w)
            if key not in state:
                raise SystemExit("torch_to_h5: the state_dict has no %s (for %s/%s); "
                                 "try --by-order" % (key, w[0], w[1]))
            pairs.append((w, (key, state[key])))
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        g = f.create_group("model")
        g.attrs["cfg"] = cfg
        if mod is not None:
            write_meta(g, mod)
        for (layer, param), (key, value) in pairs:
            want = tuple(shapes[net.state_key(layer, param)].shape)
            if tuple(value.shape) != want:
                raise SystemExit("torch_to_h5: %s has shape %s, %s/%s needs %s"
                                 % (key, tuple(value.shape), layer, param, want))
            f.create_dataset("params/%s/%s" % (layer, param),
                             data=value.detach().cpu().numpy().astype(np.float32))
    os.replace(tmp, a.out)
    print("wrote %s (%d arrays)" % (a.out, len(pairs)))


if __name__ == "__main__":
    main()
