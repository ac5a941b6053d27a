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
