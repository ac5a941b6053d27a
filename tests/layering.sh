#!/bin/sh
# layering: the source tree's layers use only the layers below them, and the
# installed library exports only sn_ names.
#   core   computation only: no io, dist, train, cli; no MPI, no HDF5
#   io     files: core only (no dist, train, cli; no MPI)
#   dist   ranks and collectives: core only (no io, train, cli; no HDF5)
#   train  the training engine: core, io, dist (no cli)
#   cli    the command: anything
# mpi.h is included in src/dist only, hdf5.h in src/io/h5.c only.
# Prints every violation and exits 1 if there is one.
cd "$(dirname "$0")/.." || exit 1
bad=0
deny() {   # deny LAYER PATTERN WHAT
    hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" src/$1/*.c src/$1/*.h 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "layering: src/$1 must not use $3:"; echo "$hits"; bad=1
    fi
}
deny core 'io/|dist/|train/|cli/|mpi\.h|hdf5\.h|H5[A-Za-z]*\.h' "io, dist, train, cli, MPI or HDF5"
deny io 'dist/|train/|cli/|mpi\.h' "dist, train, cli or MPI"
deny dist 'io/|train/|cli/|hdf5\.h|H5[A-Za-z]*\.h' "io, train, cli or HDF5"
deny train 'cli/|mpi\.h|hdf5\.h|H5[A-Za-z]*\.h' "cli, MPI or HDF5"
hits=$(grep -lE '#[[:space:]]*include[[:space:]]*[<"]mpi\.h' -r src include | grep -v '^src/dist/')
[ -n "$hits" ] && { echo "layering: mpi.h outside src/dist: $hits"; bad=1; }
hits=$(grep -lE '#[[:space:]]*include[[:space:]]*[<"](hdf5\.h|H5[A-Za-z]*\.h)' -r src include | grep -v '^src/io/h5\.[ch]$')
[ -n "$hits" ] && { echo "layering: HDF5 outside src/io/h5.c: $hits"; bad=1; }
# the public header and every header it installs: no cli
hits=$(grep -nE '#[[:space:]]*include[[:space:]]*"cli/' include/scratchnet.h)
[ -n "$hits" ] && { echo "layering: include/scratchnet.h includes the command: $hits"; bad=1; }
so=${BUILD:-build}/libscratchnet.so
if [ -f "$so" ]; then
    names=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^sn_')
    [ -n "$names" ] && { echo "layering: $so exports names without the sn_ prefix:"; echo "$names"; bad=1; }
    n=$(nm -D --defined-only "$so" | wc -l)
    [ "$n" -gt 0 ] || { echo "layering: $so exports nothing?"; bad=1; }
else
    echo "layering: $so is missing (make test builds it)"; bad=1
fi
[ $bad -eq 0 ] && echo "layering: core, io, dist, train, cli in order; $so exports only sn_ names"
exit $bad
