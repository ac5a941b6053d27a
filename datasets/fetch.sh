#!/bin/sh
# datasets/fetch.sh: download a dataset from its official source, check
# every file against the checksum its publishers give, and convert it to
# scratchnet's HDF5 layout.
#
#   datasets/fetch.sh mnist|fashion-mnist|cifar10 [OUTDIR]     (default data/)
#
# Needs curl and internet access.  Without them it says so and points to
# the offline route: `make data` (Fashion-MNIST from Debian's
# dataset-fashion-mnist package) and `make data-cifar10` (the JPEG copy).
#
# Checksums: the publishers give MD5 sums, not SHA-256 (Fashion-MNIST in
# its README, CIFAR-10 on its page; for MNIST the sums torchvision checks,
# as LeCun's page gives none), so MD5 is what is checked; the script prints
# each file's SHA-256 too, for your records.
# FETCH_BASE=URL replaces the download location (a mirror, or file:// for
# tests).
set -eu
cd "$(dirname "$0")/.."
BIN=${SN_BIN:-build/scratchnet}
name=${1:-}
out=${2:-data}

usage() {
    echo "usage: datasets/fetch.sh mnist|fashion-mnist|cifar10 [OUTDIR]" >&2
    exit 2
}

case "$name" in
mnist)
    base=${FETCH_BASE:-https://ossci-datasets.s3.amazonaws.com/mnist}
    files="train-images-idx3-ubyte.gz:f68b3c2dcbeaaa9fbdd348bbdeb94873
train-labels-idx1-ubyte.gz:d53e105ee54ea40749a09fcbcd1e9432
t10k-images-idx3-ubyte.gz:9fb629c4189551a2d022fa330f9573f3
t10k-labels-idx1-ubyte.gz:ec29112dd5afa0611ce80d1b7f02629c"
    classes="0,1,2,3,4,5,6,7,8,9" ;;
fashion-mnist)
    base=${FETCH_BASE:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com}
    files="train-images-idx3-ubyte.gz:8d4fb7e6c68d591d4c3dfef9ec88bf0d
train-labels-idx1-ubyte.gz:25c81989df183df01b3e8a0aad5dffbe
t10k-images-idx3-ubyte.gz:bef4ecab320f06d8554ea6380940ec79
t10k-labels-idx1-ubyte.gz:bb300cfdad3c16e7a12a480ee83cd310"
    classes="T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot" ;;
cifar10)
    base=${FETCH_BASE:-https://www.cs.toronto.edu/~kriz}
    files="cifar-10-binary.tar.gz:c32a1d4ab5d03f1284b67883e8d87530"
    classes="" ;;
*)
    usage ;;
esac

command -v curl >/dev/null || {
    echo "fetch.sh: curl is not installed (apt-get install curl); offline, use make data" >&2
    exit 1
}
[ -x "$BIN" ] || { echo "fetch.sh: $BIN is missing; run make first" >&2; exit 1; }
dir="$out/$name-download"
# a failed download leaves no folder it made, empty (nothing else is removed)
made=
[ -d "$out" ] || made="$out"
[ -d "$dir" ] || made="$dir${made:+ $made}"
mkdir -p "$dir"
unmake() {
    for d in $made; do rmdir "$d" 2>/dev/null || true; done
}
for entry in $files; do
    f=${entry%%:*}
    md5=${entry#*:}
    if [ -f "$dir/$f" ] && [ "$(md5sum < "$dir/$f" | cut -d' ' -f1)" = "$md5" ]; then
        echo "$f: already here, checksum good"
        continue
    fi
    echo "fetching $base/$f"
    if ! curl -fsSL --connect-timeout 15 --retry 2 -o "$dir/$f.part" "$base/$f"; then
        rm -f "$dir/$f.part"
        unmake
        echo "fetch.sh: could not download $base/$f (no internet access?)." >&2
        echo "  Offline: make data (Fashion-MNIST from Debian's dataset-fashion-mnist) or" >&2
        echo "  make data-cifar10 (the JPEG copy of CIFAR-10); see datasets/README.md." >&2
        exit 1
    fi
    got=$(md5sum < "$dir/$f.part" | cut -d' ' -f1)
    if [ "$got" != "$md5" ]; then
        rm -f "$dir/$f.part"
        unmake
        echo "fetch.sh: $f has MD5 $got, the publishers give $md5: refused and deleted" >&2
        exit 1
    fi
    mv "$dir/$f.part" "$dir/$f"
    echo "$f: MD5 $md5 as published; SHA-256 $(sha256sum < "$dir/$f" | cut -d' ' -f1)"
done

case "$name" in
cifar10)
    tar -xzf "$dir/cifar-10-binary.tar.gz" -C "$dir"
    "$BIN" convert cifar10 "$dir/cifar-10-batches-bin" --source "CIFAR-10 ($base)" \
        -o "$out/cifar10.h5" ;;
*)
    "$BIN" convert idx --images "$dir/train-images-idx3-ubyte.gz" \
        --labels "$dir/train-labels-idx1-ubyte.gz" \
        --test-images "$dir/t10k-images-idx3-ubyte.gz" \
        --test-labels "$dir/t10k-labels-idx1-ubyte.gz" \
        --classes "$classes" --source "$name ($base)" -o "$out/$name.h5" ;;
esac
