# scratchnet: one non-recursive Makefile.  Knobs:
#   WITH_MPI=1     MPI backend (src/dist/dist_mpi.c); 0 = one process only
#   MPI=openmpi    which MPI: openmpi (pkg-config ompi-c, mpirun; the default)
#                  or mpich (pkg-config mpich, mpiexec.mpich; builds in
#                  build-mpich/ unless BUILD is given)
#   WITH_OPENMP=1  OpenMP loops
#   WITH_BLAS=1    OpenBLAS (OpenMP build) for GEMM; 0 = plain loops
#   DEBUG=0        1 = -O0 -g
#   SAN=           address,undefined ... (e.g. make SAN=address,undefined test)
#   WERROR=0       1 = -Werror (CI sets it)
#   PORTABLE=0     1 = -march=x86-64-v2 (any x86-64 of the last 15 years),
#                  v3 = -march=x86-64-v3 (AVX2 and FMA: Intel Haswell 2013,
#                  AMD Excavator 2015 and later), instead of -march=native
#                  (the building machine's SIMD)
WITH_MPI    ?= 1
MPI         ?= openmpi
WITH_OPENMP ?= 1
WITH_BLAS   ?= 1
DEBUG       ?= 0
SAN         ?=
WERROR      ?= 0
PORTABLE    ?= 0
# `make` alone builds the command and the library, whatever rule comes first
.DEFAULT_GOAL := all

# The two MPI families: each its pkg-config name, its launcher with the
# flags this machine needs (root, more ranks than cores), its build folder.
# Open MPI stays the system's mpirun/mpicc; MPICH's are used by full name.
ifeq ($(MPI),openmpi)
MPI_PC     := ompi-c
MPIRUN     := mpirun --oversubscribe
MPI_BUILD  := build
else ifeq ($(MPI),mpich)
MPI_PC     := mpich
MPIRUN     := mpiexec.mpich
MPI_BUILD  := build-mpich
else
$(error MPI must be openmpi or mpich, got '$(MPI)')
endif
# tests that run make themselves (test_install) build with the same MPI
export MPI

# Debian packages scratchnet builds and runs with (both MPI families: make
# test runs the tests that start ranks with each; iproute2 for the
# multi-host test bed).
DEB_PKGS := build-essential pkg-config libopenmpi-dev openmpi-bin mpich libmpich-dev \
            libopenblas-openmp-dev libhdf5-dev hdf5-tools libcmocka-dev libinih-dev zlib1g-dev \
            libpng-dev libjpeg-dev procps iproute2 gnuplot-nox bsdutils dataset-fashion-mnist \
            python3-h5py libprotobuf-c-dev protobuf-c-compiler libonnx-dev libjansson-dev \
            libonnx-testdata python3-onnx libsimgrid-dev libunistring-dev libfontconfig-dev \
            libicu-dev
# Node and npm run ONNX Runtime (npm onnxruntime-node) in the export test.
# Installed only when missing: a node from another source (NodeSource)
# brings its own npm, which Debian's npm package conflicts with.
NODE_PKGS := nodejs npm
PC_PKGS  := hdf5-serial inih zlib libpng libjpeg libprotobuf-c jansson fontconfig icu-uc icu-i18n
ifeq ($(WITH_MPI),1)
PC_PKGS  += $(MPI_PC)
endif
ifeq ($(WITH_BLAS),1)
PC_PKGS  += openblas
endif

CC      ?= cc
BUILD   ?= $(MPI_BUILD)
# a BUILD exported for one MPI's folder would put the other's build there
ifeq ($(origin BUILD)$(MPI),environmentmpich)
$(warning BUILD=$(BUILD) is set in the environment: the MPICH build goes there, not in \
  build-mpich/ (unset BUILD, or give BUILD= on the command line))
endif
# -fno-trapping-math -fno-math-errno: nothing here reads FP exception flags
# or errno after math calls; saying so lets gcc vectorise loops with
# branches and calls (the gates' exp and tanh).  Results do not change (no
# reassociation, unlike -ffast-math).
CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow -Wno-unused-parameter \
           -fno-trapping-math -fno-math-errno -fPIC -MMD -MP -Isrc -Iinclude -I$(BUILD)/gen
ifeq ($(DEBUG),1)
CFLAGS  += -O0 -g
else
CFLAGS  += -O3 -g
endif
ifeq ($(PORTABLE),1)
# -Wno-psabi: without AVX, GCC notes that gemm_small.c's static helpers,
# which take and return 8-float vectors, would pass them another way: they
# are never called across a library boundary, so nothing is affected
CFLAGS  += -march=x86-64-v2 -Wno-psabi
else ifeq ($(PORTABLE),v3)
CFLAGS  += -march=x86-64-v3
else ifeq ($(PORTABLE),0)
CFLAGS  += -march=native
else
$(error PORTABLE must be 0, 1 or v3, got '$(PORTABLE)')
endif
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif
CFLAGS  += $(SAN_FLAGS_EXTRA)
ifeq ($(WITH_OPENMP),1)
CFLAGS  += -fopenmp
LDFLAGS += -fopenmp
else
CFLAGS  += -fopenmp-simd -Wno-unknown-pragmas
endif

PC_CFLAGS := $(shell pkg-config --cflags $(PC_PKGS) 2>/dev/null)
PC_LIBS   := $(shell pkg-config --libs $(PC_PKGS) 2>/dev/null)
CFLAGS    += $(PC_CFLAGS)
LDLIBS    := $(PC_LIBS) -lunistring -lpthread -lm
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)

CORE_SRC := $(filter-out src/core/blas_%.c,$(wildcard src/core/*.c)) src/core/blas_naive.c
ifeq ($(WITH_BLAS),1)
CORE_SRC += src/core/blas_openblas.c
CFLAGS   += -DSN_WITH_BLAS
else
CORE_SRC += src/core/blas_none.c
endif
IO_SRC   := $(wildcard src/io/*.c)
# ONNX's protobuf schema, compiled to C by protoc-c at build time (onnx.c
# writes models with it, tests/io/test_onnx.c reads ONNX's test cases).
ONNX_PROTO := /usr/include/onnx/onnx.proto
ONNX_PB    := $(BUILD)/gen/onnx/onnx.pb-c
ONNX_TESTDATA := /usr/include/onnx/backend/test/data/node
# ONNX Runtime for Node, for the export test (npm, in build/ort).
ORT_VERSION := 1.30.0
ORT_DIR    := $(BUILD)/ort
DIST_SRC := src/dist/shard.c src/dist/flight.c
ifeq ($(WITH_MPI),1)
DIST_SRC += src/dist/dist_mpi.c
else
DIST_SRC += src/dist/dist_local.c
endif
TRAIN_SRC := $(wildcard src/train/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The library is the layers a program builds on; the command's own code
# (src/cli) is linked into the command only.
LIB_SRC  := $(CORE_SRC) $(IO_SRC) $(DIST_SRC) $(TRAIN_SRC)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(ONNX_PB).o
LIB      := $(BUILD)/libscratchnet.a
SO       := $(BUILD)/libscratchnet.so
BIN      := $(BUILD)/scratchnet
VERSION  := 0.2.0
PREFIX   ?= /usr/local
# absolute: scratchnet.pc and the library's rpath name it (PREFIX=build/x would
# work only from this folder)
# make cannot quote a name for the shell: a space would split PREFIX into
# two folders (one inside the source tree) and ; | & $ ` ' " \ would be
# read by the shell or by sed
# (a $ is checked in the text as given: make expands it first, so
# PREFIX='/tmp/$(shell ...)' ran the command before any check saw it)
ifneq ($(findstring $$,$(value PREFIX)$(value DESTDIR)),)
$(error PREFIX and DESTDIR may hold letters, digits and / . _ + - only (not $$))
endif
ifeq ($(strip $(PREFIX)),)
$(error PREFIX is empty: give the folder to install under, such as /usr/local (the default))
endif
ifeq ($(patsubst -%,-,$(DESTDIR)),-)
$(error DESTDIR '$(DESTDIR)' starts with -, which install would read as an option: give a folder (./$(DESTDIR) for one of that name))
endif
ifneq ($(words $(PREFIX) $(DESTDIR)),$(if $(DESTDIR),2,1))
$(error PREFIX and DESTDIR must not hold spaces: '$(PREFIX)' '$(DESTDIR)')
endif
ifneq ($(shell printf '%s' '$(subst ',!,$(PREFIX)$(DESTDIR))' | tr -d 'A-Za-z0-9/._+-'),)
$(error PREFIX and DESTDIR may hold letters, digits and / . _ + - only)
endif
override PREFIX := $(abspath $(PREFIX))
# scratchnet --version prints these: the version, the commit built (with
# -dirty for uncommitted changes) and the machine code it targets, written
# to a header that changes only when they do
COMMIT   := $(shell [ -e .git ] && git describe --always --dirty 2>/dev/null)
BUILD_INFO := $(BUILD)/gen/build_info.h
BUILD_DESC := $(if $(COMMIT),commit $(COMMIT),no git commit), $(if $(filter 1,$(PORTABLE)),-march=x86-64-v2,$(if $(filter v3,$(PORTABLE)),-march=x86-64-v3,-march=native))
$(BUILD_INFO): FORCE
	@mkdir -p $(dir $@)
	@printf '#define SN_VERSION "%s"\n#define SN_BUILD "%s"\n' '$(VERSION)' '$(BUILD_DESC)' | \
	    cmp -s - $@ || printf '#define SN_VERSION "%s"\n#define SN_BUILD "%s"\n' '$(VERSION)' '$(BUILD_DESC)' > $@
$(BUILD)/src/cli/main.o $(BUILD)/src/cli/export.o: $(BUILD_INFO)

TEST_SRC   := $(wildcard tests/core/test_*.c tests/io/test_*.c tests/dist/test_*.c tests/train/test_*.c \
                        tests/cli/test_*.c \
                        tests/datasets/test_*.c tests/tools/test_*.c)
TEST_BIN   := $(TEST_SRC:%.c=$(BUILD)/%)
TEST_COMMON := $(BUILD)/tests/common/testutil.o

# mpirun as the tests and `make run` use it: root and oversubscription are
# allowed here because this machine runs everything as root on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_btl_vader_single_copy_mechanism := none
export OMPI_MCA_rmaps_base_oversubscribe := 1
export SN_MPIRUN := $(MPIRUN)

DATA := data/fashion-mnist.h5
FMNIST := /usr/share/datasets/fashion-mnist

.PHONY: all build deps data run test test-build clean
.SECONDARY: $(TEST_COMMON)
# the bench programs a make bench or make scaling built are rebuilt too: a
# stale one ran the old library's kernels without a word
BENCH_BUILT := $(wildcard $(addprefix $(BUILD)/bench/,gemm_peak conv_algos allreduce allreduce_shm))
all build: $(BIN) $(LIB) $(SO) $(BENCH_BUILT)

# Objects depend on the flags they were compiled with: changing a knob
# (PORTABLE, SAN, DEBUG ...) rebuilds what it affects.
FLAGS_STAMP := $(BUILD)/.flags
.PHONY: FORCE
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CFLAGS) | $(LDFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) | $(LDFLAGS)' > $@

$(BUILD)/tests/common/%.o: tests/common/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itests/common -c $< -o $@

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(ONNX_PROTO):
	@echo "make: $(ONNX_PROTO) not found: ONNX's schema (Debian: apt-get install libonnx-dev), or give make ONNX_PROTO=DIR/onnx/onnx.proto (docs/CLUSTER.md section 1)" >&2; exit 1
$(ONNX_PB).c $(ONNX_PB).h: $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(ONNX_PROTO:%/onnx/onnx.proto=%) $(ONNX_PROTO)

# Hidden: libscratchnet.so exports only sn_ names (tests/layering.sh).
$(ONNX_PB).o: $(ONNX_PB).c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -fvisibility=hidden -c $< -o $@

# Whatever includes the generated header waits for it.
$(BUILD)/src/io/onnx.o $(BUILD)/src/cli/export.o $(BUILD)/tests/io/test_onnx: $(ONNX_PB).h

# The small-matrix kernel's `c += a * b` on vectors must become one FMA
# instruction; -std=c11 alone keeps multiply and add apart (a throwaway
# loop, 32 x 32 by 32 x 64: 43 GFLOP/s against 95 with FMA).
$(BUILD)/src/core/gemm_small.o: CFLAGS += -ffp-contract=fast

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The MPI the binary was linked with must be the family asked for: a
# site's CC=mpicc of Open MPI with MPI=mpich made an Open MPI binary in
# build-mpich/, without a word (user 46 U2).
MPI_SAYS := $(if $(filter mpich,$(MPI)),MPICH,Open MPI)
$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
	@if [ "$(WITH_MPI)" = 1 ]; then \
	    said=$$($@ --version 2>&1 | sed -n 's/^  MPI: *//p' | cut -c1-60); \
	    case "$$said" in \
	    "$(MPI_SAYS)"*) ;; \
	    "") echo "make: $@ does not start (ldd $@ shows what it cannot find)" >&2; exit 1 ;; \
	    *) echo "make: $@ was linked with $$said, not the MPI=$(MPI) family: give that family's compiler wrapper (CC=...) and pkg-config name" >&2; \
	       rm -f $@; exit 1 ;; \
	    esac; fi

$(SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libscratchnet.so.0 $(LDFLAGS) $^ $(LDLIBS) -o $@
	ln -sf libscratchnet.so $(BUILD)/libscratchnet.so.0   # the name programs ask for

# install: the command, libscratchnet.a and .so, the headers (under
# include/scratchnet, found through pkg-config), scratchnet.pc, the man
# page, the model zoo and the guides (share/doc/scratchnet).
# PREFIX=/usr/local by default; DESTDIR for staging.
.PHONY: install
install: $(BIN) $(LIB) $(SO)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/scratchnet/core $(DESTDIR)$(PREFIX)/include/scratchnet/io \
	    $(DESTDIR)$(PREFIX)/include/scratchnet/dist $(DESTDIR)$(PREFIX)/include/scratchnet/train \
	    $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/scratchnet/models $(DESTDIR)$(PREFIX)/share/doc/scratchnet/docs \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet/datasets \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet/examples/transfer \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet/examples/onnx \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet/launch $(DESTDIR)$(PREFIX)/share/doc/scratchnet/tests/cli \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet/tools
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/scratchnet
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libscratchnet.a
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/libscratchnet.so.0
	ln -sf libscratchnet.so.0 $(DESTDIR)$(PREFIX)/lib/libscratchnet.so
	install -m 644 include/scratchnet.h $(DESTDIR)$(PREFIX)/include/scratchnet/
	install -m 644 src/core/*.h $(DESTDIR)$(PREFIX)/include/scratchnet/core/
	install -m 644 src/io/*.h $(DESTDIR)$(PREFIX)/include/scratchnet/io/
	install -m 644 src/dist/*.h $(DESTDIR)$(PREFIX)/include/scratchnet/dist/
	install -m 644 $(filter-out %_impl.h,$(wildcard src/train/*.h)) $(DESTDIR)$(PREFIX)/include/scratchnet/train/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(strip $(LDFLAGS) $(LDLIBS))|' tools/scratchnet.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/scratchnet.pc
	@# made by a redirect, with the umask's mode: 644 as every installed file
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/scratchnet.pc
	install -m 644 docs/scratchnet.1 $(DESTDIR)$(PREFIX)/share/man/man1/scratchnet.1
	install -m 644 models/*.cfg $(DESTDIR)$(PREFIX)/share/scratchnet/models/
	install -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/scratchnet/
	install -m 644 docs/*.md docs/*.png $(DESTDIR)$(PREFIX)/share/doc/scratchnet/docs/
	install -m 644 datasets/README.md $(DESTDIR)$(PREFIX)/share/doc/scratchnet/datasets/
	@# what the guides link to, in the same folders, so the links hold
	install -m 644 examples/*.c $(DESTDIR)$(PREFIX)/share/doc/scratchnet/examples/
	install -m 644 examples/transfer/*.cfg $(DESTDIR)$(PREFIX)/share/doc/scratchnet/examples/transfer/
	install -m 644 examples/onnx/* $(DESTDIR)$(PREFIX)/share/doc/scratchnet/examples/onnx/
	install -m 755 launch/*.sh $(DESTDIR)$(PREFIX)/share/doc/scratchnet/launch/
	@# sbatch runs a copy of the script from its spool, which cannot find the
	@# folder it was installed in: the installed copy names the installed binary
	sed -e 's|^BIN=$${SCRATCHNET:-build/scratchnet}$$|BIN=$${SCRATCHNET:-$(PREFIX)/bin/scratchnet}|' \
	    -e 's|^MODEL=$${MODEL:-models/mlp.cfg}$$|MODEL=$${MODEL:-$(PREFIX)/share/scratchnet/models/mlp.cfg}|' \
	    -e 's|submit from the scratchnet folder, or set SCRATCHNET|set SCRATCHNET|' \
	    -e 's|^# Run sbatch from the scratchnet folder (or set SCRATCHNET, MODEL, DATA).$$|# Set DATA (and MODEL, SCRATCHNET for others than the installed ones).|' \
	    launch/slurm.sbatch > $(DESTDIR)$(PREFIX)/share/doc/scratchnet/launch/slurm.sbatch
	chmod 755 $(DESTDIR)$(PREFIX)/share/doc/scratchnet/launch/slurm.sbatch
	install -m 644 launch/hostfile.example $(DESTDIR)$(PREFIX)/share/doc/scratchnet/launch/
	install -m 644 tools/*.py $(DESTDIR)$(PREFIX)/share/doc/scratchnet/tools/
	install -m 644 tests/cli/bad_inputs.md $(DESTDIR)$(PREFIX)/share/doc/scratchnet/tests/cli/
	@echo "installed in $(DESTDIR)$(PREFIX); compile with: cc prog.c \$$(pkg-config --cflags --libs scratchnet)"
	@case "$$(pkg-config --variable pc_path pkg-config):$${PKG_CONFIG_PATH:-}" in \
	    *"$(PREFIX)/lib/pkgconfig"*) ;; \
	    *) echo "  (pkg-config finds it only once you: export PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig)";; \
	esac

# uninstall: what install put under PREFIX: its files in the shared folders,
# and the folders that are scratchnet's alone, whole.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/scratchnet $(DESTDIR)$(PREFIX)/lib/libscratchnet.a \
	    $(DESTDIR)$(PREFIX)/lib/libscratchnet.so $(DESTDIR)$(PREFIX)/lib/libscratchnet.so.0 \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/scratchnet.pc $(DESTDIR)$(PREFIX)/share/man/man1/scratchnet.1
	rm -rf $(DESTDIR)$(PREFIX)/include/scratchnet $(DESTDIR)$(PREFIX)/share/scratchnet \
	    $(DESTDIR)$(PREFIX)/share/doc/scratchnet
	@echo "removed scratchnet from $(DESTDIR)$(PREFIX)"

$(BUILD)/tests/%: tests/%.c $(TEST_COMMON) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itests/common -Itests $(LDFLAGS) $< $(TEST_EXTRA) $(TEST_COMMON) \
	    $(LIB) $(LDLIBS) $(TEST_LIBS) -o $@

# Tests of the command's own parts (the log's JSON, gnuplot's text quoting)
# link the command's objects, which the library does not hold.
CLI_PART_OBJ := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
CLI_PART_TESTS := $(BUILD)/tests/cli/test_gnuplot $(BUILD)/tests/cli/test_jsonlog \
                  $(BUILD)/tests/cli/test_output $(BUILD)/tests/cluster/params_close
$(CLI_PART_TESTS): $(CLI_PART_OBJ)
$(CLI_PART_TESTS): TEST_EXTRA = $(CLI_PART_OBJ)

# deps: install what is missing (as root), or print the command to do so.
# The npm package onnxruntime-node goes into $(ORT_DIR) (its install script
# would download GPU binaries; the CPU runtime is in the package itself);
# without npm or the registry the export test says so and skips that part.
deps:
	@missing=""; \
	for p in $(PC_PKGS) ompi-c mpich cmocka; do \
	    pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p.pc"; done; \
	for c in mpirun mpiexec.mpich pkill tc gnuplot script protoc-c smpicc; do \
	    command -v $$c >/dev/null || [ -x /usr/sbin/$$c ] || [ -x /sbin/$$c ] || \
	        missing="$$missing $$c"; done; \
	[ -f /usr/include/uninorm.h ] || missing="$$missing uninorm.h"; \
	[ -f $(ONNX_PROTO) ] || missing="$$missing onnx.proto"; \
	[ -d $(ONNX_TESTDATA) ] || missing="$$missing onnx-testdata"; \
	/usr/bin/python3 -c 'import onnx, h5py' 2>/dev/null || missing="$$missing python3-onnx/h5py"; \
	[ -f $(FMNIST)/train-images-idx3-ubyte.gz ] || missing="$$missing fashion-mnist"; \
	if [ -z "$$missing" ]; then \
	    echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	    echo "deps: missing:$$missing; installing $(DEB_PKGS)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEB_PKGS); \
	else \
	    echo "deps: missing:$$missing; run as root:"; \
	    echo "  apt-get update && apt-get install -y $(DEB_PKGS)"; exit 1; \
	fi
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(NODE_PKGS) || \
	            echo "deps: could not install $(NODE_PKGS): the export test will skip ONNX Runtime"; \
	    else \
	        echo "deps: node and npm are missing (apt-get install $(NODE_PKGS)): the export test will skip ONNX Runtime"; \
	    fi; \
	fi
	@if command -v npm >/dev/null && [ ! -f $(ORT_DIR)/node_modules/onnxruntime-node/package.json ]; then \
	    mkdir -p $(ORT_DIR) && echo "deps: npm install onnxruntime-node@$(ORT_VERSION) in $(ORT_DIR)" && \
	    (cd $(ORT_DIR) && npm install --ignore-scripts --no-audit --no-fund --silent \
	        onnxruntime-node@$(ORT_VERSION)) || \
	        echo "deps: npm install onnxruntime-node failed: the export test will skip ONNX Runtime"; \
	fi

$(DATA): | $(BIN)
	@[ -f $(FMNIST)/train-images-idx3-ubyte.gz ] || $(MAKE) deps
	@mkdir -p data
	$(BIN) convert idx --images $(FMNIST)/train-images-idx3-ubyte.gz \
	    --labels $(FMNIST)/train-labels-idx1-ubyte.gz \
	    --test-images $(FMNIST)/t10k-images-idx3-ubyte.gz \
	    --test-labels $(FMNIST)/t10k-labels-idx1-ubyte.gz \
	    --classes "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot" \
	    --source "Fashion-MNIST (Debian dataset-fashion-mnist)" -o $@

data:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory $(DATA)

# run: everything from a fresh machine to a trained MLP on 2 ranks.
run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	OMP_NUM_THREADS=1 $(MPIRUN) -np 2 $(BIN) train --model models/mlp.cfg --data $(DATA) \
	    --out data/mlp.h5 --log data/mlp.jsonl
	OMP_NUM_THREADS=1 $(MPIRUN) -np 2 $(BIN) eval --weights data/mlp.h5 --data $(DATA)

# The simulator's smoke test (tests/bench/test_sim.sh) runs where SimGrid
# is installed (make deps installs it).
SIM_TEST := $(if $(shell command -v smpicc 2>/dev/null),tests/bench/test_sim.sh)
SIM_TEST_BUILD := $(if $(SIM_TEST),sim-build)

test-build: $(BIN) $(LIB) $(SO) $(TEST_BIN) $(SIM_TEST_BUILD)

# test: the whole suite with $(MPI).  With Open MPI (the default) also the
# MPI layer's, the reducers' and the trainer's ranks tests with MPICH (built in
# $(BUILD)-mpich, at 2 ranks; make test MPI=mpich runs the whole suite with
# MPICH, which would double make test's time, about 9 minutes here), and
# then the pre-MPI limits' test with both families (tests/cli/prelimits.sh)
# and the short multi-host test with both families (tests/cluster/short.sh:
# 2 namespace hosts x 1 rank; skipped with a message where namespaces cannot
# be made).
CORES         := $(shell nproc 2>/dev/null || echo 2)
RANK_TESTS    := tests/dist/test_dist_mpi tests/train/test_reducer_mpi tests/train/test_trainer_mpi
CLUSTER_TOOLS := $(BUILD)/tests/cluster/arena_probe $(BUILD)/tests/cluster/params_close
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(CORES) test-build
	@BUILD=$(BUILD) sh tests/run.sh $(TEST_BIN) tests/layering.sh tests/launch/hostfile.sh tests/launch/signals.sh tests/launch/sandbox.sh $(SIM_TEST)
ifeq ($(MPI),openmpi)
	@$(MAKE) --no-print-directory -j2 MPI=mpich BUILD=$(BUILD)-mpich test-ranks
	@SN_BIN_OPENMPI=$(CURDIR)/$(BUILD)/scratchnet SN_BIN_MPICH=$(CURDIR)/$(BUILD)-mpich/scratchnet \
	    sh tests/run.sh tests/cli/prelimits.sh
	@$(MAKE) --no-print-directory -j$(CORES) $(CLUSTER_TOOLS) $(DATA)
	@SN_BIN_OPENMPI=$(CURDIR)/$(BUILD)/scratchnet SN_BIN_MPICH=$(CURDIR)/$(BUILD)-mpich/scratchnet \
	    SN_CLUSTER_WORK=$(CURDIR)/$(BUILD)/cluster-work SN_FAMILIES="mpich openmpi" \
	    sh tests/run.sh tests/cluster/short.sh
else
	@SN_BIN_MPICH=$(CURDIR)/$(BUILD)/scratchnet sh tests/run.sh tests/cli/prelimits.sh
	@$(MAKE) --no-print-directory -j$(CORES) $(CLUSTER_TOOLS) $(DATA)
	@SN_BIN_MPICH=$(CURDIR)/$(BUILD)/scratchnet SN_CLUSTER_WORK=$(CURDIR)/$(BUILD)/cluster-work \
	    SN_FAMILIES=mpich sh tests/run.sh tests/cluster/short.sh
endif

# test-ranks: the tests that start ranks, at 2 ranks, and the bed's tools
# (make test runs it with MPI=mpich).
.PHONY: test-ranks
test-ranks: $(BIN) $(RANK_TESTS:%=$(BUILD)/%) $(CLUSTER_TOOLS)
	@SN_NP=2 BUILD=$(BUILD) sh tests/run.sh $(RANK_TESTS:%=$(BUILD)/%)

# test-cluster: the multi-host test bed (tests/cluster/): K hosts made of
# Linux namespaces on this machine, real MPI jobs of both families across
# them, correctness at several placements, checkpoints moved between host
# sets, the hostfile example, and lost hosts (a cut link, killed processes,
# a frozen rank), an elastic restart after a lost host (launch/elastic.sh);
# about 10 minutes, and 2.5 more for the elastic case (139-148 s alone), as
# root (skipped otherwise).  SN_CLUSTER_CASES="5" runs only suite.sh's case 5.
# bench-cluster: the table of docs/CLUSTER.md on the bed.
CLUSTER_ENV = SN_TEST_JOBS=1 SN_BIN_OPENMPI=$(CURDIR)/build/scratchnet SN_BIN_MPICH=$(CURDIR)/build-mpich/scratchnet \
              SN_CLUSTER_WORK=$(CURDIR)/build/cluster-work
.PHONY: test-cluster test-cluster-short bench-cluster cluster-build
cluster-build:
	@$(MAKE) --no-print-directory MPI=openmpi BUILD=build build build/tests/cluster/arena_probe \
	    build/tests/cluster/params_close build/bench/allreduce
	@$(MAKE) --no-print-directory MPI=mpich BUILD=build-mpich build build-mpich/tests/cluster/arena_probe \
	    build-mpich/tests/cluster/params_close build-mpich/bench/allreduce
	@$(MAKE) --no-print-directory $(DATA)
test-cluster: cluster-build
	@$(CLUSTER_ENV) sh tests/run.sh tests/cluster/short.sh tests/cluster/suite.sh
# test-cluster-short: the short multi-host test alone (what make test runs of the bed)
test-cluster-short: cluster-build
	@$(CLUSTER_ENV) sh tests/run.sh tests/cluster/short.sh
bench-cluster: cluster-build
	$(CLUSTER_ENV) bash tests/cluster/bench.sh

# sanitize: the whole suite built with AddressSanitizer and UBSan in
# build-san/ (leaks are checked in the tests that do not start MPI).
.PHONY: sanitize
sanitize:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(CORES) BUILD=build-san SAN=address,undefined test-build
	@SN_SANITIZE=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 BUILD=build-san sh tests/run.sh \
	    $(TEST_SRC:%.c=build-san/%)

clean:
	rm -rf $(BUILD) build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:%=%.d) $(TEST_COMMON:.o=.d)

# throughput: images/s of models/mlp.cfg at 1x1, 1x2 and 2x1 ranks x threads
# (median of 5 one-epoch runs; see docs/RESULTS.md).  Not part of make test.
.PHONY: throughput
throughput:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/throughput.sh models/mlp.cfg $(DATA) 5

# bench: scratchnet against PyTorch, one table (docs/PERFORMANCE.md; about
# 9 minutes).  Installs Debian's python3-torch and python3-h5py for the
# PyTorch side when missing; nothing else ever needs them.
.PHONY: bench
bench: $(BUILD)/bench/gemm_peak $(BUILD)/bench/conv_algos
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	@/usr/bin/python3 -c 'import torch, h5py' 2>/dev/null || \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-h5py)
	sh bench/bench.sh

# scaling: how much of the gradient allreduce the overlap hides at 2 ranks,
# the shared arena against MPI_Allreduce on one host, MPI_Allreduce latency
# and bandwidth, and the cost model's predicted efficiency at 2 ... 512
# ranks (docs/SCALING.md; about 10 minutes).
.PHONY: scaling
scaling: $(BUILD)/bench/allreduce $(BUILD)/bench/allreduce_shm
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/overlap.sh
	OMP_NUM_THREADS=1 $(MPIRUN) -np 2 $(BUILD)/bench/allreduce_shm
	sh bench/scaling.sh

# sim (also scaling-sim): scratchnet's reducer on simulated clusters of 16
# to 1024 ranks (SimGrid SMPI, bench/sim/; docs/SCALING.md): the tables of
# bench/sim/tables.sh (five models, two fat trees, four strategies, 1024
# ranks for resnet and cifar_resnet, bucket sizes) in data/sim/tables.md,
# two simulations at a time.  sim-profiles measures the per-layer profiles
# it replays (bench/sim/profiles, committed); sim-validate compares the
# replay with training on this machine at 2 ranks, sim-validate-bed with
# the test bed's 2 hosts (run them alone: flock).  Not part of make test
# (its smoke test, tests/bench/test_sim.sh, is).
SIM_DIR  := $(BUILD)/bench/sim
SIM_SRC  := bench/sim/replay.c bench/sim/nbc.c bench/sim/colls.c bench/sim/schedule.c \
            bench/sim/simalloc.c $(wildcard src/train/reducer*.c) src/dist/dist_mpi.c src/dist/flight.c src/dist/shard.c \
            $(filter-out src/core/blas_openblas.c,$(wildcard src/core/*.c)) src/io/modelfile.c src/io/fsutil.c src/io/ckpt_extra.c
SIM_HDR  := $(wildcard bench/sim/*.h src/core/*.h src/train/*.h src/dist/*.h src/io/modelfile.h src/io/fsutil.h)
.PHONY: sim sim-build scaling-sim sim-profiles sim-validate sim-validate-bed
sim-build: $(SIM_DIR)/replay.so $(SIM_DIR)/events $(SIM_DIR)/calib

# The replay is the real reducer and MPI layer compiled by smpicc (one copy
# per simulated rank; libsimregion.so is loaded once, for memory every rank
# shares).  -Bsymbolic: its own MPI_ functions (nbc.c, colls.c) come
# before SMPI's; the wraps: simalloc.c.
$(SIM_DIR)/libsimregion.so: bench/sim/region.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC -shared $< -o $@

$(SIM_DIR)/replay.so: $(SIM_SRC) $(SIM_HDR) $(SIM_DIR)/libsimregion.so
	smpicc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g0 -march=native -Wall -Wextra \
	    -Wno-unused-parameter -Wno-unknown-pragmas -ffunction-sections -fdata-sections \
	    -Isrc -iquote bench/sim $(SIM_SRC) -Wl,-Bsymbolic -Wl,--gc-sections \
	    -Wl,--wrap=aligned_alloc -Wl,--wrap=smpi_shared_free -L$(SIM_DIR) -lsimregion \
	    -Wl,-rpath,$(abspath $(SIM_DIR)) -linih -lunistring -licui18n -licuuc -lm -o $@

$(SIM_DIR)/events: bench/sim/events.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(SIM_DIR)/calib: bench/sim/calib.c
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native $< $(shell pkg-config --cflags --libs ompi-c) -o $@

sim: sim-build
	sh bench/sim/tables.sh

scaling-sim: sim

sim-profiles: sim-build
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/sim/profile.sh

sim-validate: sim-build
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/sim/validate.sh

# sim-validate-bed: the replay against the multi-host test bed's 2 hosts at
# 10 and 1 Gbit/s, 1 and 2 ranks a host (MPICH; as root; run it alone).
sim-validate-bed: sim-build cluster-build
	$(CLUSTER_ENV) bash bench/sim/validate_bed.sh

# compress-accuracy: final test accuracy of models/mlp.cfg and lenet5.cfg
# with --compress bf16 and fp16 against floats, seeds 1 2 3, 2 ranks
# (docs/SCALING.md; about 25 minutes).  stream: images/s of lenet5 and cnn
# at 2 ranks with the data in memory and read from the file a batch ahead
# (a few minutes).  SN_LOCK=/work/heavy.lock runs each training run under
# that lock.  Not part of make test.
.PHONY: compress-accuracy stream
compress-accuracy:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/compress_accuracy.sh

stream:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/stream.sh

$(BUILD)/bench/allreduce: bench/allreduce.c
	@mkdir -p $(dir $@)
	$(CC) -O2 $< $(shell pkg-config --cflags --libs $(MPI_PC)) -o $@

$(BUILD)/bench/allreduce_shm: bench/allreduce_shm.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/bench/gemm_peak: bench/gemm_peak.c bench/load.h
	@mkdir -p $(dir $@)
	$(CC) -O2 $< $(shell pkg-config --cflags --libs openblas) -o $@

$(BUILD)/bench/conv_algos: bench/conv_algos.c bench/load.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# transfer: the transfer-learning example of docs/TRANSFER.md (pretrain
# LeNet-5 on classes 0-4, fine-tune on 100 images per class of 5-9, against
# training from scratch; a few minutes).  Not part of make test.
.PHONY: transfer
transfer:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh examples/transfer/run.sh

# zoo: train the model zoo on Fashion-MNIST at 2 ranks and print the
# results table of docs/RESULTS.md (hours on 2 cores).  Not part of make test.
.PHONY: zoo
zoo:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(DATA)
	sh bench/zoo.sh

# zoo-cifar: the CIFAR-10 row of that table, cifar_resnet (about 30 minutes
# on 2 cores; ZOO_ARGS="--seed 2" for another seed).  Not part of make test.
.PHONY: zoo-cifar
zoo-cifar:
	@$(MAKE) --no-print-directory build
	@[ -f data/cifar10.h5 ] || $(MAKE) --no-print-directory data-cifar10
	sh bench/zoo.sh cifar_resnet

# zoo-cifar-fast: models/cifar_fast.cfg (airbench94's network and recipe)
# at 2 ranks, once per seed of SEEDS (default 1 2 3; about 25 minutes each
# on 2 cores), one table row per run with and without its test-time views;
# logs and weights in data/zoo/seedS.  Not part of make test.
SEEDS ?= 1 2 3
.PHONY: zoo-cifar-fast
zoo-cifar-fast:
	@$(MAKE) --no-print-directory build
	@[ -f data/cifar10.h5 ] || $(MAKE) --no-print-directory data-cifar10
	ZOO_SEEDS="$(SEEDS)" sh bench/zoo.sh cifar_fast

# data-cifar10: CIFAR-10 as data/cifar10.h5 (never made again over one
# that is there), from the official binary batches in
# data/cifar-10-batches-bin or data/cifar10-download/cifar-10-batches-bin
# (where datasets/fetch.sh cifar10 leaves them) when present, else from the offline
# JPEG copy in ../shared/datasets/cifar10-images (see its README; the
# 60,000 JPEGs are unpacked into data/ for the conversion and removed after).
CIFAR_JPEG := ../shared/datasets/cifar10-images
.PHONY: data-cifar10
data-cifar10: $(BIN)
	@mkdir -p data
	@if [ -f data/cifar10.h5 ]; then \
	    echo "data-cifar10: data/cifar10.h5 is there already (remove it to make it again)"; \
	elif [ -f data/cifar-10-batches-bin/data_batch_1.bin ]; then \
	    $(BIN) convert cifar10 data/cifar-10-batches-bin -o data/cifar10.h5 \
	        --source "CIFAR-10 (official binary version)"; \
	elif [ -f data/cifar10-download/cifar-10-batches-bin/data_batch_1.bin ]; then \
	    $(BIN) convert cifar10 data/cifar10-download/cifar-10-batches-bin -o data/cifar10.h5 \
	        --source "CIFAR-10 (official binary version)"; \
	elif [ -f $(CIFAR_JPEG)/train.tar ]; then \
	    rm -rf data/cifar10-images && mkdir -p data/cifar10-images && \
	    tar xf $(CIFAR_JPEG)/train.tar -C data/cifar10-images && \
	    tar xf $(CIFAR_JPEG)/test.tar -C data/cifar10-images && \
	    $(BIN) convert folder data/cifar10-images/train --test data/cifar10-images/test \
	        -o data/cifar10.h5 --source "CIFAR-10 (JPEG copy)"; rc=$$?; \
	    rm -rf data/cifar10-images; exit $$rc; \
	else \
	    echo "data-cifar10: none of data/cifar-10-batches-bin, data/cifar10-download/cifar-10-batches-bin and $(CIFAR_JPEG) is here;"; \
	    echo "  with internet, datasets/fetch.sh cifar10 downloads and converts it (datasets/README.md)"; exit 2; \
	fi

# faults: the end-to-end suite with 20 random SIGKILL points (make test
# runs 3), each resumed with --resume auto and compared bit for bit, and
# every row of tests/cli/bad_inputs.md at every rank count it names.
.PHONY: faults
faults:
	@$(MAKE) --no-print-directory test-build
	SN_KILLS=20 SN_KILL_SEED=$${SN_KILL_SEED:-$$(date +%s)} SN_BAD_INPUT_ALL=1 BUILD=$(BUILD) \
	    sh tests/run.sh $(BUILD)/tests/cli/test_train \
	    $(BUILD)/tests/cli/test_bad_input

# valgrind: short runs of every 28x28 zoo model, a resume, eval and predict
# under valgrind memcheck (tests/valgrind/run.sh).  Not part of make test.
# Built in build-vg with PORTABLE=1: valgrind 3.19 stops at the first
# AVX-512 instruction (SIGILL), which -march=native emits on AVX-512 CPUs.
.PHONY: valgrind
valgrind:
	@command -v valgrind >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q valgrind; }
	@$(MAKE) --no-print-directory BUILD=build-vg PORTABLE=1 build
	@$(MAKE) --no-print-directory $(DATA)
	sh tests/valgrind/run.sh build-vg $(DATA)

# fuzz: libFuzzer targets (clang, AddressSanitizer + UBSan) for what reads
# the outside world: the model file parser, the IDX reader, checkpoint
# loading, the dataset loader, the PNG/JPEG/PGM decoders, the flag parser
# and plot's log reader, each run for FUZZ_SECONDS (default 600) from the
# seed corpus in tests/fuzz/corpus, with -rss_limit_mb=2048 (a bomb is a
# finding) and -timeout=10 (so is a hang; 30 for the HDF5 targets, whose
# files the probe's child may read for its 8 s of CPU, twice when libFuzzer
# runs an input again to look for leaks); for the HDF5 targets a request
# libhdf5 makes beyond what malloc can give returns NULL, as glibc does.  FUZZ_TARGETS="image flags"
# runs some.  Not part of make test.  Findings go to
# build-fuzz/<target>-crash-* (or -oom-, -timeout-).  fuzz_ckpt and
# fuzz_dataset run without leak detection: libhdf5 1.10 leaks internally
# on some corrupted files; the targets check instead that scratchnet
# closes every HDF5 object it opened.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := modelfile idx ckpt dataset image flags plotlog
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g -O1
.PHONY: fuzz fuzz-build
fuzz-build:
	@command -v clang >/dev/null && [ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || \
	    { [ "$$(id -u)" = 0 ] && apt-get install -y -q clang libclang-rt-14-dev; }
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang WITH_OPENMP=0 \
	    SAN_FLAGS_EXTRA="$(FUZZ_FLAGS)" build-fuzz/libscratchnet.a \
	    $(patsubst $(BUILD)/%,build-fuzz/%,$(CLI_PART_OBJ))
	@for t in $(FUZZ_TARGETS); do \
	    clang -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc $(PC_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	        tests/fuzz/fuzz_$$t.c $(patsubst $(BUILD)/%,build-fuzz/%,$(CLI_PART_OBJ)) \
	        build-fuzz/libscratchnet.a $(LDLIBS) -o build-fuzz/fuzz_$$t || exit 1; \
	done
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build-fuzz/corpus-$$t && \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s" && \
	    opts=detect_leaks=1; tmo=10; \
	    case $$t in ckpt|dataset) opts=detect_leaks=0:allocator_may_return_null=1; tmo=30;; esac; \
	    ASAN_OPTIONS=$$opts build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -rss_limit_mb=2048 -timeout=$$tmo -artifact_prefix=build-fuzz/$$t- -print_final_stats=1 \
	        build-fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | tail -12 || exit 1; \
	done

# test-slurm: a one-node Slurm (slurmctld, slurmd, munge) on this machine
# (launch/slurm-sandbox.sh), then launch/slurm.sbatch submitted for real:
# train, resubmit and resume, a folder per job, requeue of a running job,
# an afternotok chain, the time limit (tests/slurm/run.sh).  Needs root;
# installs Debian's slurm-wlm and munge when missing.  Not part of make test
# (100 s with the packages installed, at 653a60c: docs/CLUSTER.md, section 6).
.PHONY: test-slurm
test-slurm: build
	bash tests/slurm/run.sh
