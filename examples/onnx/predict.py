"""predict.py: classify a grey image with a model written by `scratchnet
export --softmax`, in ONNX Runtime for Python.

    pip install onnxruntime onnx numpy
    python3 predict.py MODEL.onnx IMAGE.pgm

The model takes raw pixels (0..255), as `scratchnet predict` does; the class
names are in the model's metadata_props, as a JSON array under "classes".
IMAGE.pgm is a binary (P5) grey image of the model's input size.
"""
import json
import os
import re
import stat
import sys

import numpy as np
import onnx
import onnxruntime as ort

model_path, image_path = sys.argv[1:3]
meta = {p.key: p.value for p in onnx.load(model_path).metadata_props}
names = json.loads(meta.get("classes", "[]"))

try:
    st = os.stat(image_path)  # a FIFO or a device would be read without end
except OSError as e:
    sys.exit(f"predict.py: {image_path}: {e.strerror}")
if not stat.S_ISREG(st.st_mode):
    sys.exit(f"predict.py: {image_path}: not a regular file")
if st.st_size > 64 + 16384 * 16384:  # more than the largest image it takes
    sys.exit(f"predict.py: {image_path}: {st.st_size} bytes, more than an image of "
             "16384x16384 pixels")
data = open(image_path, "rb").read()
sep = rb"(?:\s|#[^\n]*\n)+"  # blanks and '#' comment lines, as netpbm writes them (GIMP does)
# 9 digits a side at most: int() refuses over 4,300
head = re.match(rb"P5" + sep + rb"(\d{1,9})" + sep + rb"(\d{1,9})" + sep + rb"255\s", data)
if not head:
    sys.exit(f"predict.py: {image_path}: not a binary 8-bit PGM (P5)")
w, h = int(head[1]), int(head[2])
if not (1 <= w <= 16384 and 1 <= h <= 16384):  # scratchnet predict's side limit
    sys.exit(f"predict.py: {image_path}: {w}x{h} pixels: each side must be 1 to 16384")
if len(data) != head.end() + w * h:
    sys.exit(f"predict.py: {image_path}: {len(data) - head.end()} bytes of pixels, "
             f"not the {w * h} its header promises")
x = np.frombuffer(data, np.uint8, w * h, head.end()).astype(np.float32).reshape(1, 1, h, w)

session = ort.InferenceSession(model_path)
probs = session.run(["probs"], {"input": x})[0][0]
if len(probs) == 1:  # one binary output: the probability of class 1
    k = int(probs[0] > 0.5)
    p = probs[0] if k else 1 - probs[0]
else:
    k = int(probs.argmax())
    p = probs[k]
print(f"class {k} {names[k] if k < len(names) else ''}  p = {p:.4f}")
