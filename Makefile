# SPDX-License-Identifier: MIT
# The two entry points of README.md, plus conveniences for developers.
#   make run   installs what is missing, builds, prepares ./demo, serves.
#   make test  installs what is missing, builds with ASan+UBSan, runs CTest.
JOBS ?= $(shell nproc)
BUILD ?= build/default
TEST_BUILD ?= build/asan

.PHONY: all run run-ad test deps build test-build install deb format bench bench-h2o bench-auth bench-sspi \
	bench-client-cert bench-schannel bench-credssp bench-wrk bench-ntlm-winbind lint clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
	cmake --build $(BUILD) -j $(JOBS)

run: build
	scripts/demo-run $(BUILD)/src/cli/gatehouse

# The same against a throwaway Samba AD domain controller (docs/active-directory.md).
run-ad: build
	scripts/demo-run-ad $(BUILD)/src/cli/gatehouse $(BUILD)

test-build: deps
	cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGH_SANITIZE=ON
	cmake --build $(TEST_BUILD) -j $(JOBS)

# The optimised build first: -O2 finds warnings (-Werror) that the Debug
# build cannot, and `make run` / `make bench` use it.
test: build test-build
	cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

# docs/install.md. `make install PREFIX=/usr/local DESTDIR=/tmp/stage`.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian packages (debian/), written to the parent directory.
deb: deps
	dpkg-buildpackage -b -us -uc

lint: test-build
	run-clang-tidy -p $(TEST_BUILD) -j $(JOBS) -quiet "$$PWD/src/"
	cppcheck --enable=warning,performance,portability --inline-suppr -q --error-exitcode=1 \
	  --std=c11 -D_GNU_SOURCE -I include -I src -j $(JOBS) src/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench: build
	bench/vs-nginx $(BUILD)/src/cli/gatehouse

bench-h2o: build
	bench/vs-h2o $(BUILD)/src/cli/gatehouse

bench-auth: build
	bench/vs-apache $(BUILD)/src/cli/gatehouse

bench-wrk: build
	bench/vs-wrk $(BUILD)/src/cli/gatehouse

bench-sspi: deps
	bench/sspi-handshakes

bench-client-cert: build
	bench/vs-client-cert $(BUILD)/src/cli/gatehouse

bench-ntlm-winbind: build
	bench/vs-ntlm-winbind $(BUILD)/src/cli/gatehouse

bench-schannel: deps
	bench/schannel-handshakes

bench-credssp: deps
	cmake -S . -B build/default-tests -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/default-tests -j $(JOBS) --target credssp_rdp
	bench/credssp-handshakes build/default-tests

clean:
	rm -rf build
