"""scratchnet_torch: a scratchnet model file as a PyTorch module.

    from scratchnet_torch import Net
    net = Net(open("models/lenet5.cfg").read())   # torch.nn.Module
    net.load_state_dict(torch.load("lenet5.pt"))  # from tools/h5_to_torch.py
    probs = net(x).softmax(1)                      # x: (N, C, H, W) float

Every section of the model file becomes the matching torch.nn layer, kept
in net.layers under the scratchnet layer name ('.' in a name becomes '__').
The parameter layouts are the same as scratchnet's, so the state_dict key
of scratchnet's /params/<layer>/<param> is layers.<layer>.<param>, with
'_l0' appended for rnn, lstm and gru (torch.nn.RNN's naming).
Needs only torch (Debian: python3-torch).
"""
import re

import torch
import torch.nn as nn

RECURRENT = ("rnn", "lstm", "gru")
LEAKY_SLOPE = 0.01   # scratchnet's leaky_relu


def parse_cfg(text):
    """[(word, {key: value}), ...] in file order, '#' comments removed."""
    sections = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            sections.append((m.group(1), {}))
        elif "=" in line and sections:
            k, v = line.split("=", 1)
            sections[-1][1][k.strip()] = v.strip()
        else:
            raise ValueError("model file: cannot read line %r" % raw)
    return sections


def key_of(name):
    return name.replace(".", "__")


def torch_param(kind, param):
    return param + "_l0" if kind in RECURRENT else param


def act_module(name):
    """The PyTorch module of scratchnet's activation `name` (the names of
    src/core/activation.c: a new one needs its line here too)."""
    acts = {"linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
            "tanh": nn.Tanh, "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
            "softmax": lambda: nn.Softmax(dim=-1), "gelu": nn.GELU,
            "gelu_tanh": lambda: nn.GELU(approximate="tanh")}
    if name not in acts:
        raise ValueError(f"activation '{name}' has no PyTorch module here "
                         f"(known: {', '.join(acts)}): add it to act_module in "
                         f"tools/scratchnet_torch.py")
    return acts[name]()


def _with_act(base):
    """base (BatchNorm1d or 2d) followed by an activation: [batchnorm] with
    `activation`; the state_dict keys stay BatchNorm's."""

    class BatchNormAct(base):
        def __init__(self, c, eps, momentum, act):
            super().__init__(c, eps=eps, momentum=momentum)
            self.act = act

        def forward(self, x):
            return self.act(super().forward(x))

    return BatchNormAct


BatchNorm1dAct, BatchNorm2dAct = _with_act(nn.BatchNorm1d), _with_act(nn.BatchNorm2d)


class Scale(nn.Module):
    """y = scale x: [dense] scale (no parameters)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


class Recurrent(nn.Module):
    """rnn/lstm/gru reading (N, T, F) and giving the last h or all of them."""

    def __init__(self, kind, features, units, sequences):
        super().__init__()
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.cell = cls(features, units, batch_first=True)
        self.sequences = sequences

    def forward(self, x):
        out, _ = self.cell(x)
        return out if self.sequences else out[:, -1]


class Net(nn.Module):
    """The network of a scratchnet model file (text)."""

    def __init__(self, cfg_text):
        super().__init__()
        sections = parse_cfg(cfg_text)
        net = dict(sections[0][1]) if sections and sections[0][0] == "net" else {}
        self.input = tuple(int(v) for v in net["input"].split(","))
        self.layers = nn.ModuleDict()
        self.kinds, self.names, self.inputs, self.flatten_first = [], [], [], []
        shapes = {-1: self.input}
        index = 0
        for word, kv in sections:
            if word in ("net", "augment"):
                continue
            name = kv.get("name", "%s%d" % (word, index))
            srcs = [self.names.index(s.strip()) for s in kv["from"].split(",")] \
                if "from" in kv else [index - 1]
            shape = shapes[srcs[0]]
            module, out, flat = self._layer(word, kv, shape, [shapes[s] for s in srcs])
            key = key_of(name)
            if key in self.layers:   # a.b and a__b: one module name in PyTorch
                raise ValueError("model file: layers %r and %r are both %r in PyTorch: rename one"
                                 % (self.names[list(self.layers).index(key)], name, key))
            self.layers[key] = module
            self.kinds.append(word)
            self.names.append(name)
            self.inputs.append(srcs)
            self.flatten_first.append(flat)
            shapes[index] = out
            index += 1

    @staticmethod
    def _layer(word, kv, shape, in_shapes):
        """(module, output shape, flatten the input first)."""
        n = 1
        for d in shape:
            n *= d
        act = kv.get("activation", "linear")
        if word == "dense":
            units = int(kv["units"])
            layers = [nn.Linear(n, units), act_module(act)]
            if float(kv.get("scale", 1)) != 1:
                layers.append(Scale(float(kv["scale"])))
            return nn.Sequential(*layers), (units,), True
        if word == "conv":
            c, h, w = shape
            f, k = int(kv["filters"]), int(kv["size"])
            s, p = int(kv.get("stride", 1)), int(kv.get("pad", 0))
            oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            return nn.Sequential(nn.Conv2d(c, f, k, s, p), act_module(act)), (f, oh, ow), False
        if word in ("maxpool", "avgpool"):
            c, h, w = shape
            k = int(kv["size"])
            s = int(kv.get("stride", k))
            cls = nn.MaxPool2d if word == "maxpool" else nn.AvgPool2d
            return cls(k, s), (c, (h - k) // s + 1, (w - k) // s + 1), False
        if word == "flatten":
            return nn.Flatten(), (n,), False
        if word == "dropout":
            return nn.Dropout(float(kv.get("rate", 0.5))), shape, False
        if word == "batchnorm":
            mom, eps = float(kv.get("momentum", 0.1)), float(kv.get("eps", 1e-5))
            cls = BatchNorm2dAct if len(shape) == 3 else BatchNorm1dAct
            bn = cls(shape[0], eps, mom, act_module(act))
            # affine = bias: the weight stays 1 (it is in the state_dict, as ones)
            bn.weight.requires_grad_(kv.get("affine", "1") != "bias")
            return bn, shape, False
        if word == "activation":
            return act_module(act), shape, False
        if word in RECURRENT:
            t, f = (shape[1], shape[2]) if len(shape) == 3 else shape
            units, seq = int(kv["units"]), kv.get("return_sequences", "0") == "1"
            return Recurrent(word, f, units, seq), ((t, units) if seq else (units,)), False
        if word == "concat":
            out = list(in_shapes[0])
            out[0] = sum(s[0] for s in in_shapes)
            return nn.Identity(), tuple(out), False
        if word == "add":
            return nn.Identity(), shape, False
        raise ValueError("section [%s] has no PyTorch counterpart here" % word)

    def forward(self, x):
        ys = {-1: x}
        for i, name in enumerate(self.names):
            kind, srcs = self.kinds[i], self.inputs[i]
            xs = [ys[s] for s in srcs]
            layer = self.layers[key_of(name)]
            if kind == "concat":
                y = torch.cat(xs, dim=1)
            elif kind == "add":
                y = xs[0]
                for other in xs[1:]:
                    y = y + other
            elif kind in RECURRENT:
                v = xs[0]
                y = layer(v.reshape(v.shape[0], v.shape[-2], v.shape[-1]))
            else:
                v = xs[0]
                y = layer(v.flatten(1) if self.flatten_first[i] else v)
            ys[i] = y
        return ys[len(self.names) - 1]

    def state_key(self, layer, param):
        """The state_dict key of scratchnet's /params/<layer>/<param>."""
        i = self.names.index(layer)
        kind = self.kinds[i]
        inner = {"dense": "0.", "conv": "0.", "rnn": "cell.", "lstm": "cell.",
                 "gru": "cell."}.get(kind, "")
        return "layers.%s.%s%s" % (key_of(layer), inner, torch_param(kind, param))
