#!/usr/bin/env bash
# The library as a consumer gets it: `cmake --install` of the build under test (static), then a
# small program (test/consumer) built with find_package(iotjobs 0.2 CONFIG) and with pkg-config;
# a shared build (BUILD_SHARED_LIBS=ON) installed and used through find_package; the same
# program with add_subdirectory; FetchContent configured. Each program deletes executions on the
# bundled fake endpoint. The extra builds go into the build tree (build/packaging/), so that a
# second run, or another clone's, hits ccache.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build_dir=$(cd "$IOTJOBS_BIN_DIR/.." && pwd)
src=$IOTJOBS_SOURCE_DIR
pk=$build_dir/packaging
rm -rf "$pk/prefix-static" "$pk/prefix-shared" "$pk/consumer-"*
mkdir -p "$pk"
work=$(mktemp -d /tmp/iotjobs-packaging.XXXXXX)
fake_pid=""
trap '[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null; rm -rf "$work"' EXIT
jobs=$(nproc)
fail=0
check() {  # check NAME COMMAND...: runs it, prints PASS/FAIL
  local name=$1; shift
  if "$@" >"$work/$name.log" 2>&1; then echo "PASS $name"; else echo "FAIL $name"; tail -n 40 "$work/$name.log"; fail=1; fi
}

"$IOTJOBS_BIN_DIR/iotjobs-fake-iot" --listen 127.0.0.1:0 --tls --ca-out "$work/ca.pem" --generate 5000 --jobs 1 \
  >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 200); do [[ -s "$work/fake.out" ]] && break; sleep 0.05; done
export AWS_ENDPOINT_URL=$(head -n1 "$work/fake.out") AWS_CA_BUNDLE="$work/ca.pem" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

run_consumer() {  # run_consumer BINARY FIRST LAST
  local out
  out=$("$1" job-0 "$2" "$3") && [[ "$out" == "deleted $(($3 - $2 + 1))" ]]
}
version=$(sed -n 's/^#define IOTJOBS_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$src/include/iotjobs/version.hpp" | paste -sd.)

# 1. The build under test, installed (static).
check install-static cmake --install "$build_dir" --prefix "$pk/prefix-static"
for f in include/iotjobs/client.hpp include/iotjobs/version.hpp lib/libiotjobs.a bin/iotjobs bin/iotjobs-fake-iot \
         lib/cmake/iotjobs/iotjobsConfig.cmake lib/cmake/iotjobs/iotjobsConfigVersion.cmake lib/pkgconfig/iotjobs.pc \
         share/bash-completion/completions/iotjobs; do
  [[ -e "$pk/prefix-static/$f" ]] || { echo "FAIL install-static: $f not installed"; fail=1; }
done
# The installed completion is the source tree's, and defines the function bash-completion calls.
check completion-installed bash -c "cmp -s '$src/tools/iotjobs/completion.bash' \
  '$pk/prefix-static/share/bash-completion/completions/iotjobs' \
  && source '$pk/prefix-static/share/bash-completion/completions/iotjobs' && declare -F _iotjobs >/dev/null"
check version-cli bash -c "[[ \"\$('$pk/prefix-static/bin/iotjobs' --version)\" == iotjobs/$version\ * ]]"
check version-fake bash -c "[[ \"\$('$pk/prefix-static/bin/iotjobs-fake-iot' --version)\" == *$version* ]]"

# 2. find_package against the static install.
check find-package-static bash -c "cmake -S '$src/test/consumer' -B '$pk/consumer-static' -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH='$pk/prefix-static' && cmake --build '$pk/consumer-static'"
check run-find-package-static run_consumer "$pk/consumer-static/consumer" 1 1000
# A version the package does not provide is refused (before 1.0 a minor version is a new API).
check find-package-wrong-version bash -c "! cmake -S '$src/test/consumer' -B '$work/wrong' -G Ninja \
  -DCMAKE_PREFIX_PATH='$pk/prefix-static' -DIOTJOBS_WANT=0.3"

# 3. pkg-config against the static install.
check pkg-config bash -c "PKG_CONFIG_PATH='$pk/prefix-static/lib/pkgconfig' g++ -std=c++20 -O1 -o '$pk/consumer-pc' \
  '$src/test/consumer/consumer.cpp' \$(PKG_CONFIG_PATH='$pk/prefix-static/lib/pkgconfig' pkg-config --cflags --libs iotjobs)"
check run-pkg-config run_consumer "$pk/consumer-pc" 1001 1100

# 4. A shared library build, installed, used through find_package.
check build-shared bash -c "cmake -S '$src' -B '$pk/shared' -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DIOTJOBS_BUILD_TESTS=OFF -DIOTJOBS_BUILD_BENCH=OFF -DIOTJOBS_BUILD_TOOLS=ON -DIOTJOBS_INSTALL=ON \
  && cmake --build '$pk/shared' -j $jobs --target iotjobs iotjobs_cli_main iotjobs-fake-iot \
  && cmake --install '$pk/shared' --prefix '$pk/prefix-shared'"
check soname bash -c "ls '$pk/prefix-shared/lib/' | grep -qx 'libiotjobs.so.$version' \
  && [[ \$(readlink '$pk/prefix-shared/lib/libiotjobs.so') == libiotjobs.so.${version%.*} ]]"
check installed-cli-shared "$pk/prefix-shared/bin/iotjobs" --version
check find-package-shared bash -c "cmake -S '$src/test/consumer' -B '$pk/consumer-shared' -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH='$pk/prefix-shared' && cmake --build '$pk/consumer-shared' \
  && ldd '$pk/consumer-shared/consumer' | grep -q 'libiotjobs.so.${version%.*} => $pk/prefix-shared/lib/'"
check run-find-package-shared run_consumer "$pk/consumer-shared/consumer" 1101 2100

# 5. add_subdirectory (builds the library from source inside the consumer's tree).
check add-subdirectory bash -c "cmake -S '$src/test/consumer' -B '$pk/consumer-subdir' -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DIOTJOBS_MODE=subdirectory -DIOTJOBS_SOURCE_DIR='$src' && cmake --build '$pk/consumer-subdir' -j $jobs"
check run-add-subdirectory run_consumer "$pk/consumer-subdir/consumer" 2101 2200

# 6. FetchContent from a source tree: configures (the build is the add_subdirectory one's).
check fetchcontent cmake -S "$src/test/consumer" -B "$work/consumer-fetch" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DIOTJOBS_MODE=fetchcontent -DIOTJOBS_SOURCE_DIR="$src"

echo "packaging: $([[ $fail == 0 ]] && echo passed || echo FAILED)"
exit $fail
