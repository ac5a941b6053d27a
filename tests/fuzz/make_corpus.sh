#!/bin/sh
# Seed corpora for make fuzz: the zoo's model files, small IDX files and a
# real checkpoint.  Run from the top folder after make; the results are
# committed under tests/fuzz/corpus.
set -eu
c=tests/fuzz/corpus
for m in models/*.cfg; do cp "$m" "$c/modelfile/$(basename "$m")"; done
printf '\000\000\010\001\000\000\000\003\001\002\003' > "$c/idx/labels.idx"
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002\001\002\003\004\005\006\007\010' > "$c/idx/images.idx"
gzip -c "$c/idx/images.idx" > "$c/idx/images.idx.gz"
tmp=$(mktemp -d)
cat > "$tmp/m.cfg" <<'CFG'
[net]
input = 6
optimizer = adam
[dense]
units = 4
[batchnorm]
[dense]
units = 3
CFG
printf '\000\000\010\003\000\000\000\006\000\000\000\002\000\000\000\003' > "$tmp/img"
head -c 36 /dev/urandom >> "$tmp/img"
printf '\000\000\010\001\000\000\000\006\000\001\002\000\001\002' > "$tmp/lab"
build/scratchnet convert idx --images "$tmp/img" --labels "$tmp/lab" -o "$tmp/d.h5" >/dev/null
build/scratchnet train --model "$tmp/m.cfg" --data "$tmp/d.h5" --batch 2 --steps 2 \
    --checkpoint-dir "$tmp/ck" --quiet --threads 1
cp "$tmp"/ck/ckpt-*.h5 "$c/ckpt/"
rm -rf "$tmp"

# dataset: small dataset files as scratchnet and h5py write them (plain,
# chunked and compressed, uint8 images, float targets)
mkdir -p "$c/dataset" "$c/image" "$c/flags" "$c/plotlog"
tmp=$(mktemp -d)
printf '\000\000\010\003\000\000\000\004\000\000\000\002\000\000\000\002' > "$tmp/img"
head -c 16 /dev/urandom >> "$tmp/img"
printf '\000\000\010\001\000\000\000\004\000\001\002\003' > "$tmp/lab"
build/scratchnet convert idx --images "$tmp/img" --labels "$tmp/lab" -o "$c/dataset/idx.h5" >/dev/null
/usr/bin/python3 - "$c" <<'PY'
import sys, h5py, numpy as np
from PIL import Image
c = sys.argv[1]
with h5py.File(c + '/dataset/chunked.h5', 'w') as f:
    f.create_dataset('train/x', data=np.arange(48, dtype='f4').reshape(6, 8), chunks=(2, 8),
                     compression='gzip')
    f.create_dataset('train/y', data=np.arange(6, dtype='i4') % 3)
    f['train/x'].attrs['scale'] = 0.5
    f.attrs['classes'] = ['a', 'b', 'c']
with h5py.File(c + '/dataset/targets.h5', 'w') as f:
    f.create_dataset('train/x', data=np.ones((3, 1, 2, 2), 'u1'))
    f.create_dataset('train/y', data=np.zeros((3, 2), 'f4'))
    f.create_dataset('test/x', data=np.ones((1, 1, 2, 2), 'u1'))
    f.create_dataset('test/y', data=np.zeros((1, 2), 'f4'))
    f['train/x'].attrs['mean'] = [0.5]
    f['train/x'].attrs['std'] = [0.25]
im = Image.fromarray(np.arange(48, dtype='u1').reshape(4, 4, 3))
im.save(c + '/image/rgb.png')
im.convert('L').save(c + '/image/grey.png')
im.save(c + '/image/base.jpg', quality=90)
im.save(c + '/image/progressive.jpg', progressive=True)
im.convert('CMYK').save(c + '/image/cmyk.jpg')
open(c + '/image/p5.pgm', 'wb').write(b'P5\n4 4\n255\n' + bytes(range(16)))
open(c + '/image/p2.pgm', 'w').write('P2\n# c\n2 2\n15\n0 5 10 15\n')
PY
printf -- '--model\000m.cfg\000--batch\00032\000--lr=0.1\000--quiet\000-o\000x\000pos' > "$c/flags/args"
printf -- '--epochs\0004294967296\000--lr\0001e-400' > "$c/flags/range"
printf '{"epoch": 1, "step": 10, "train_loss": 0.9, "train_acc": 0.6, "test_loss": 0.8}\n{"epoch": 2, "train_loss": 0.5}\n{"epoch": 1, "train_loss": 0.4}\n' > "$c/plotlog/log.jsonl"
rm -rf "$tmp"
