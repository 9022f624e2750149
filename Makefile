# The README's two commands:
#   make        install what is missing (Debian packages), build, run a real example
#   make test   build with ASan+UBSan and run every test, as root and as an
#               unprivileged user; ends with "N passed, N failed, N skipped"
# Everything else is Meson's job; this file only strings the steps together.

BUILD      ?= build
TESTBUILD  ?= build-test
MESON      ?= meson
TEST_USER  ?= airlock-test

# Debian 12 packages: compilers, Meson, the libraries airlock links, and what
# the tests and benchmarks drive (bubblewrap and tinyproxy are the benchmarks'
# peers; wrk drives the gateway one).
DEB_PACKAGES = gcc clang pkg-config meson ninja-build libseccomp-dev libyaml-dev \
               libssl-dev nettle-dev python3 perl iproute2 util-linux procps bubblewrap \
               hyperfine libclang-rt-14-dev tinyproxy wrk openssl ca-certificates

.PHONY: all deps build demo test test-root test-user bench fuzz clean

all: deps build demo

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "missing packages (run as root or install): $$missing"; exit 1; fi; \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build:
	@[ -d $(BUILD) ] || $(MESON) setup $(BUILD) --buildtype=release
	ninja -C $(BUILD)

# A real example: an agent-style script in a read-only workspace, every layer on.
demo: build
	./$(BUILD)/airlock check || true
	./$(BUILD)/airlock run --workspace examples:ro --report - -- bash /workspace/agent-task.sh

$(TESTBUILD)/build.ninja:
	$(MESON) setup $(TESTBUILD) -Db_sanitize=address,undefined -Db_lundef=false

# Both compilers must pass the -Werror list; the suite runs on the gcc
# ASan+UBSan build.
test: deps $(TESTBUILD)/build.ninja
	@[ -d build-clang ] || CC=clang $(MESON) setup build-clang >/dev/null
	ninja -C build-clang
	ninja -C $(TESTBUILD)
	@tests/run-all.sh $(TESTBUILD) $(TEST_USER)

bench: build
	bench/startup $(BUILD)/airlock
	bench/gateway $(BUILD)/airlock
	bench/scan $(BUILD)
	bench/audit $(BUILD)/airlock
	bench/credentials $(BUILD)/airlock

fuzz:
	@[ -d build-fuzz ] || CC=clang $(MESON) setup build-fuzz -Dfuzz=true
	ninja -C build-fuzz
	fuzz/run.sh build-fuzz 60

clean:
	rm -rf $(BUILD) $(TESTBUILD) build-clang build-fuzz
