# quorumlab: two commands on a fresh Debian 12 machine.
#   make demo   installs what is missing, builds, runs the demo
#   make test   installs what is missing, builds, runs every test
# Other targets: make (build only), make test-sanitize (ASan+UBSan), make bench, make format,
# make fuzz SECONDS=N (libFuzzer, every target N seconds; harness/fuzz/README.md).

BUILD        ?= build
BUILD_SAN    ?= build-sanitize
BUILD_FUZZ   ?= build-fuzz
SECONDS      ?= 60
JOBS         ?= $(shell nproc)
CMAKE_FLAGS  ?=
CTEST_FLAGS  ?= --output-on-failure --timeout 600
SAN_OPT      ?= -O1 -g1

PACKAGES := build-essential cmake pkg-config ninja-build \
  libzmq3-dev cppzmq-dev capnproto libcapnp-dev \
  libboost-dev libboost-filesystem-dev \
  pybind11-dev python3-dev python3-pytest python3-numpy python3-matplotlib \
  python3-pandas python3-tqdm python3-nbclient python3-nbformat python3-ipykernel \
  python3-distributed \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev \
  libxxhash-dev librapidcheck-dev libedit-dev clang-format \
  zookeeper python3-kazoo libzookeeper-mt-dev

# Only `make fuzz` needs these (clang 14 with libFuzzer and the sanitizer runtimes).
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps fuzz-deps configure build test test-sanitize fuzz demo bench format clean

all: build

# Installs only what is missing; quiet and quick when everything is there.
deps fuzz-deps:
	@missing=$$(for p in $(if $(filter fuzz-deps,$@),$(FUZZ_PACKAGES),$(PACKAGES)); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	  || { echo "apt-get install failed for:" $$missing; exit 1; }; \
	fi

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest -j $(JOBS) $(CTEST_FLAGS)

# C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer (no Python, no benchmarks).
# -O1 -g1: line tables for the reports; compiling the instrumented tree at -O2 -g took most of
# CI's time (17 of 26 minutes on 2 cores), and the tests run in under a minute either way.
test-sanitize: deps
	cmake -S . -B $(BUILD_SAN) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQL_SANITIZE=ON \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(SAN_OPT)" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$(SAN_OPT)" \
	  -DQL_BUILD_PYTHON=OFF -DQL_BUILD_BENCHMARKS=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -j $(JOBS) $(CTEST_FLAGS) -LE "no_sanitize|zookeeper"

# libFuzzer targets (harness/fuzz): a clang build of only what they need in $(BUILD_FUZZ), then
# each target SECONDS seconds on a scratch copy of its corpus; prints executions per target and
# the total, fails on any crash (inputs kept in $(BUILD_FUZZ)/crashes/).
fuzz: deps fuzz-deps
	./harness/fuzz/run.sh --build $(BUILD_FUZZ) --seconds $(SECONDS) --jobs $(JOBS)

demo: build
	./harness/demo.sh $(BUILD)

bench: build
	./harness/bench.sh $(BUILD)

format:
	find kernel statemachine plugins consensus harness python -name '*.cpp' -o -name '*.hpp' \
	  | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
