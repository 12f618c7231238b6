# pageledger top-level Makefile. Quiet unless V=1.

OUTPUT   := build
CC       ?= gcc
CXX      ?= g++
CLANG    ?= clang
BPFTOOL  ?= bpftool
GO       ?= go
PYTHON   ?= /usr/bin/python3

ARCH_RAW := $(shell uname -m)
ARCH     := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(ARCH_RAW)))

# vmlinux.h: the committed one for this architecture, else generated from
# the running kernel's BTF, else a clear stop.
VMLINUX_DIR := vmlinux/$(ARCH_RAW)
ifeq ($(wildcard $(VMLINUX_DIR)/vmlinux.h),)
  ifneq ($(wildcard /sys/kernel/btf/vmlinux),)
    VMLINUX_DIR := $(OUTPUT)/vmlinux
    VMLINUX_GEN := $(VMLINUX_DIR)/vmlinux.h
  else
    $(error no vmlinux/$(ARCH_RAW)/vmlinux.h and no /sys/kernel/btf/vmlinux: this kernel has no BTF, so pageledger cannot be built for it)
  endif
endif

ifeq ($(V),1)
  Q =
  msg =
else
  Q = @
  msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The version, defined here only: --version prints it.
VERSION  := 0.1

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g

# make SANITIZE=1: the user-space side (the tracer and the unit tests) built
# with ASan and UBSan under build/sanitize, every report fatal. The kernel
# side, the skeleton and the workloads are shared with the plain build.
# scripts/run-tests.sh runs the unit and e2e suites against it.
UOUT     := $(OUTPUT)
ifeq ($(SANITIZE),1)
  UOUT   := $(OUTPUT)/sanitize
  CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Ibpf -Iuser -DPL_VERSION='"$(VERSION)"'
LDLIBS   := -lbpf -lelf -lz -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(VMLINUX_DIR) -Ibpf

# user/ follows the pipeline: trace/ (load, attach, read the kernel side) ->
# decode/ -> ledger/ (calls, causes, ranges) -> symbolize/ (who asked) ->
# output/ (the sinks). main.c wires them; cli.c reads the command line.
USER_LIB_SRCS := user/cli.c user/decode/decode.c user/util/clock.c user/util/escape.c \
	user/ledger/ledger.c user/ledger/procstat.c user/ledger/ranges.c user/util/treap.c \
	user/symbolize/callers.c user/symbolize/procmaps.c user/symbolize/elfsym.c \
	user/symbolize/gopclntab.c user/symbolize/symbolizer.c user/symbolize/demangle.c \
	user/symbolize/debuginfo.c \
	user/symbolize/demangle_cxx.c user/symbolize/demangle_rust.c \
	user/output/json.c user/output/layout.c user/output/rows.c user/output/text.c \
	user/output/summary.c user/output/jsonl.c user/output/perfetto.c user/output/folded.c \
	user/output/pprof.c user/output/metrics.c user/output/metrics_http.c \
	user/output/sinks.c \
	user/output/report.c user/output/top_view.c user/output/top.c user/util/outfile.c \
	user/trace/vlog.c
# goheap/: the Go runtime's page allocator, read from outside (the pure parts here).
USER_LIB_SRCS += user/goheap/layout.c user/goheap/buildinfo.c user/goheap/x86scan.c \
	user/goheap/gobinary.c user/goheap/pagealloc.c
USER_APP_SRCS := user/main.c user/trace/loader.c user/trace/target.c user/trace/sysenv.c \
	user/trace/pidns.c \
	user/symbolize/attribution.c user/ledger/pagemap.c user/ledger/range_tracker.c
USER_APP_SRCS += user/goheap/goheap.c
USER_HDRS := $(wildcard user/*.h user/*/*.h)
USER_LIB_OBJS := $(patsubst user/%.c,$(UOUT)/user/%.o,$(USER_LIB_SRCS))
USER_APP_OBJS := $(patsubst user/%.c,$(UOUT)/user/%.o,$(USER_APP_SRCS))
BPF_OBJ  := $(OUTPUT)/pageledger.bpf.o
SKEL     := $(OUTPUT)/pageledger.skel.h

WORKLOADS := memops pmadvise demo faultstorm madvstorm gtrim jepurge tcrelease
WORKLOADS += steady racers sysloop threads mapbomb cxxpool evilnames manymaps mapchurn neighbours reuse
WORKLOAD_BINS := $(addprefix $(OUTPUT)/workloads/,$(WORKLOADS))

UNIT_TESTS := test_decode test_ledger test_json test_cli test_callers test_procmaps \
	test_elfsym test_symbolizer test_gopclntab test_procstat test_diagnosis
UNIT_TESTS += test_perfetto test_report test_until
UNIT_TESTS += test_top_view
UNIT_TESTS += test_ranges
UNIT_TESTS += test_outfile
UNIT_TESTS += test_goheap
UNIT_TESTS += test_demangle
UNIT_TESTS += test_escape test_text test_sinks test_metrics test_debuginfo test_vlog
UNIT_BINS := $(addprefix $(UOUT)/tests/,$(UNIT_TESTS))

.PHONY: all deps deps-demo demo test test-build test-build-sanitized unit e2e bench clean vmlinux workloads fmt install fuzz fuzz-ci

all: $(UOUT)/pageledger

$(OUTPUT) $(UOUT)/user $(OUTPUT)/workloads $(UOUT)/tests $(OUTPUT)/vmlinux:
	$(Q)mkdir -p $@

# Regenerate the committed vmlinux.h from this machine's kernel BTF.
vmlinux:
	$(call msg,GEN,vmlinux/$(ARCH_RAW)/vmlinux.h)
	$(Q)mkdir -p vmlinux/$(ARCH_RAW)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH_RAW)/vmlinux.h

$(OUTPUT)/vmlinux/vmlinux.h: | $(OUTPUT)/vmlinux
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# The kernel side, one file per concern (see bpf/pageledger.bpf.h), linked
# into one object and one skeleton, as retsnoop does.
BPF_SRCS := bpf/state.bpf.c bpf/rss.bpf.c bpf/syscalls.bpf.c bpf/chunks.bpf.c
BPF_PARTS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS := bpf/events.h bpf/kernel.h bpf/pageledger.bpf.h

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX_GEN) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_OBJ): $(BPF_PARTS)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pageledger_bpf > $@

$(UOUT)/user/%.o: user/%.c $(USER_HDRS) bpf/events.h | $(UOUT)/user
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(UOUT)/user/trace/loader.o $(UOUT)/user/main.o $(UOUT)/user/symbolize/attribution.o: $(SKEL)

$(UOUT)/pageledger: $(USER_APP_OBJS) $(USER_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# ---- workloads the tests, the demo and the benchmark run ------------------
$(OUTPUT)/workloads/%: tests/workloads/%.c tests/workloads/common.h tests/workloads/threaded.h | $(OUTPUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE $< -o $@

# C++, for names that must come out demangled; frame pointers for a whole walk.
$(OUTPUT)/workloads/cxxpool: tests/workloads/cxxpool.cpp | $(OUTPUT)/workloads
	$(call msg,CXX,$@)
	$(Q)$(CXX) -O2 -g -fno-omit-frame-pointer $(WARN) $< -o $@ -lpthread
# Its symbol holds escape sequences and a newline: only clang's assembler output can carry it.
$(OUTPUT)/workloads/evilnames: tests/workloads/evilnames.c tests/workloads/common.h | $(OUTPUT)/workloads
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE $< -o $@ -lpthread

# One source, one binary per allocator.
$(OUTPUT)/workloads/jepurge: tests/workloads/purge.c tests/workloads/common.h | $(OUTPUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -DPURGE_JEMALLOC $< -o $@ -ljemalloc
$(OUTPUT)/workloads/tcrelease: tests/workloads/purge.c tests/workloads/common.h | $(OUTPUT)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -DPURGE_TCMALLOC $< -o $@ -ltcmalloc

# ---- Go workloads: plain, stripped, PIE and PIE stripped ------------------------
# Offline builds: Debian's golang-go, no module proxy, a cache under build/.
GO_ENV := GOCACHE=$(abspath $(OUTPUT))/go/cache GOPATH=$(abspath $(OUTPUT))/go/path \
	GOFLAGS=-buildvcs=false GOPROXY=off GOTOOLCHAIN=local
GO_VARIANT_FLAGS_plain :=
GO_VARIANT_FLAGS_stripped := -ldflags=-s\ -w
GO_VARIANT_FLAGS_pie := -buildmode=pie
GO_VARIANT_FLAGS_pie-stripped := -buildmode=pie -ldflags=-s\ -w
GO_WORKLOADS := $(OUTPUT)/go/scavenge $(OUTPUT)/go/scavenge-stripped \
	$(OUTPUT)/go/scavenge-pie $(OUTPUT)/go/scavenge-pie-stripped
GO_SRC := $(wildcard tests/workloads/go/scavenge/*.go) tests/workloads/go/scavenge/go.mod

$(OUTPUT)/go/scavenge: $(GO_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/scavenge && $(GO_ENV) $(GO) build -o $(abspath $@) .
$(OUTPUT)/go/scavenge-%: $(GO_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/scavenge && \
		$(GO_ENV) $(GO) build $(GO_VARIANT_FLAGS_$*) -o $(abspath $@) .

# The go_heap oracle: plain (with .symtab) and stripped PIE (mheap_ found from code).
GOHEAP_SRC := $(wildcard tests/workloads/go/goheap/*.go) tests/workloads/go/goheap/go.mod
GOHEAP_WORKLOADS := $(OUTPUT)/go/goheap $(OUTPUT)/go/goheap-stripped $(OUTPUT)/go/goheap-pie \
	$(OUTPUT)/go/goheap-pie-stripped
$(OUTPUT)/go/goheap: $(GOHEAP_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/goheap && $(GO_ENV) $(GO) build -o $(abspath $@) .
$(OUTPUT)/go/goheap-%: $(GOHEAP_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/goheap && \
		$(GO_ENV) $(GO) build $(GO_VARIANT_FLAGS_$*) -o $(abspath $@) .

# The layout oracle for test_goheap: DWARF offsets and runtime.mheap_ of the
# unstripped builds, and of other releases' binaries with DWARF on this machine.
GOHEAP_DWARF_EXTRA := $(wildcard /usr/local/bin/docker)
$(OUTPUT)/go/gooffsets: $(wildcard tests/workloads/go/gooffsets/*.go) tests/workloads/go/gooffsets/go.mod
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/gooffsets && $(GO_ENV) $(GO) build -o $(abspath $@) .
$(OUTPUT)/go/goheap.offsets: $(OUTPUT)/go/gooffsets $(OUTPUT)/go/goheap $(OUTPUT)/go/goheap-pie
	$(call msg,GEN,$@)
	$(Q)$(OUTPUT)/go/gooffsets $(OUTPUT)/go/goheap $(OUTPUT)/go/goheap-pie $(GOHEAP_DWARF_EXTRA) > $@.tmp && mv $@.tmp $@

# Who asked, on Go: built without cgo and with it (importing "C" links the cgo
# runtime, whose x_cgo_mmap the Go runtime's own mmap goes through).
CALLERS_SRC := $(wildcard tests/workloads/go/callers/*.go) tests/workloads/go/callers/go.mod
GO_WORKLOADS += $(OUTPUT)/go/callers $(OUTPUT)/go/callers-cgo
$(OUTPUT)/go/callers: $(CALLERS_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/callers && \
		CGO_ENABLED=0 $(GO_ENV) $(GO) build -o $(abspath $@) .
$(OUTPUT)/go/callers-cgo: $(CALLERS_SRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd tests/workloads/go/callers && \
		CGO_ENABLED=1 $(GO_ENV) $(GO) build -o $(abspath $@) .

workloads: $(WORKLOAD_BINS) $(GO_WORKLOADS) $(GOHEAP_WORKLOADS) $(OUTPUT)/go/goheap.offsets

# ---- tests ------------------------------------------------------------------
$(UOUT)/tests/test_%: tests/unit/test_%.c $(USER_LIB_OBJS) | $(UOUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(USER_LIB_OBJS) -lcmocka -lelf -lz -ldl -lm -o $@

# ---- fuzzing: a libFuzzer target per parser of untrusted bytes ----------------
FUZZERS := fuzz_procmaps fuzz_elfsym fuzz_gopclntab fuzz_smaps
FUZZERS += fuzz_gobinary fuzz_gobuildinfo fuzz_x86scan fuzz_goheap_mem
FUZZERS += fuzz_demangle
FUZZERS += fuzz_escape fuzz_json fuzz_metrics fuzz_debuginfo
FUZZ_BINS := $(addprefix $(OUTPUT)/fuzz/,$(FUZZERS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -Iuser -Ibpf
FUZZ_SRCS_fuzz_procmaps := user/symbolize/procmaps.c
FUZZ_SRCS_fuzz_elfsym := user/symbolize/elfsym.c
FUZZ_SRCS_fuzz_gopclntab := user/symbolize/gopclntab.c user/symbolize/elfsym.c
FUZZ_SRCS_fuzz_smaps := user/ledger/procstat.c user/symbolize/procmaps.c user/util/clock.c
FUZZ_SRCS_fuzz_gobinary := user/goheap/gobinary.c user/goheap/buildinfo.c user/goheap/x86scan.c \
	user/goheap/layout.c user/symbolize/elfsym.c user/symbolize/gopclntab.c
FUZZ_SRCS_fuzz_gobuildinfo := user/goheap/buildinfo.c
FUZZ_SRCS_fuzz_x86scan := user/goheap/x86scan.c
FUZZ_SRCS_fuzz_goheap_mem := user/goheap/pagealloc.c user/goheap/layout.c
FUZZ_SRCS_fuzz_demangle := user/symbolize/demangle.c user/symbolize/demangle_cxx.c \
	user/symbolize/demangle_rust.c
FUZZ_SRCS_fuzz_escape := user/util/escape.c
FUZZ_SRCS_fuzz_json := user/util/escape.c user/output/json.c
FUZZ_SRCS_fuzz_metrics := user/output/metrics_http.c user/util/clock.c
FUZZ_SRCS_fuzz_debuginfo := user/symbolize/debuginfo.c user/symbolize/elfsym.c
FUZZ_SECONDS ?= 60

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h user/*/*.c) $(USER_HDRS) | $(OUTPUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS_$*) -lelf -lz -lpthread -o $@

# make fuzz: each target for FUZZ_SECONDS on a scratch copy of its seed corpus.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# make demo installs what the build and the demo need; the tests install the rest.
deps:
	$(Q)scripts/deps.sh all

deps-demo:
	$(Q)scripts/deps.sh demo

unit: $(UNIT_BINS)
	$(Q)set -a && eval "$$(tests/unit/build-go-fixtures.sh build/go-fixtures)" && \
		V=$(V) scripts/run-unit.sh $(UNIT_BINS)

e2e: $(UOUT)/pageledger $(WORKLOAD_BINS)
	$(Q)PAGELEDGER=$(abspath $(UOUT))/pageledger $(PYTHON) -m pytest -q tests/e2e

# Everything the tests run, as one goal: make names no up-to-date file.
test-build: all workloads $(UNIT_BINS) $(FUZZ_BINS)
	@:

# The tracer and the unit tests again, under ASan and UBSan (build/sanitize).
test-build-sanitized:
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 all $(patsubst $(OUTPUT)/%,$(OUTPUT)/sanitize/%,$(UNIT_BINS))

test: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)$(MAKE) --no-print-directory test-build-sanitized
	$(Q)FUZZERS="$(FUZZERS)" V=$(V) scripts/run-tests.sh

demo: deps-demo
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/workloads/demo
	$(Q)$(OUTPUT)/pageledger --no-top -- $(OUTPUT)/workloads/demo

# A big Go binary for the symbolization benchmark: Go's own compiler, built
# here from Debian's GOROOT (offline), with its symbols and pclntab.
BIG_GO := $(OUTPUT)/go/big-compile
$(BIG_GO):
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D) && cd $$($(GO) env GOROOT)/src && $(GO_ENV) $(GO) build -o $(abspath $@) cmd/compile

$(OUTPUT)/bench/symbench: bench/symbench.c $(USER_LIB_OBJS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(USER_LIB_OBJS) -lelf -lz -lm -o $@

bench: deps
	$(Q)$(MAKE) --no-print-directory all workloads $(BIG_GO) $(OUTPUT)/bench/symbench
	$(Q)$(PYTHON) bench/bench.py

fmt:
	$(Q)clang-format -i bpf/*.c bpf/*.h user/*.c user/*/*.c $(USER_HDRS) tests/unit/*.c tests/workloads/*.c tests/workloads/*.h

# make install PREFIX=/usr/local DESTDIR=: the binary and the scripts (as
# pageledger-SCRIPT, which find the binary beside them) in sbin, the man page.
PREFIX ?= /usr/local
INSTALL_SCRIPTS := why-rss-high compare-madvise-modes
install: all
	$(Q)install -D -m 0755 $(OUTPUT)/pageledger $(DESTDIR)$(PREFIX)/sbin/pageledger
	$(Q)for s in $(INSTALL_SCRIPTS); do \
		install -D -m 0755 scripts/$$s $(DESTDIR)$(PREFIX)/sbin/pageledger-$$s || exit 1; done
	$(Q)install -D -m 0644 man/pageledger.8 $(DESTDIR)$(PREFIX)/share/man/man8/pageledger.8
	$(Q)install -D -m 0644 schema/pageledger.schema.json \
		$(DESTDIR)$(PREFIX)/share/pageledger/pageledger.schema.json

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
