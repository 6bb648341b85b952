#!/usr/bin/env bash
# Tests the NEON tier on an x86 host: cross-compiles native/test/tier_check.cc
# with the serial and neon kernels (flags from native/isa-flags.json) and runs
# it under qemu-aarch64. Needs g++-aarch64-linux-gnu and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=$(node -p "require('./native/isa-flags.json').arm64.neon.flags.join(' ')")
out="$(mktemp -d)/tier_check_arm64"
# Each ISA translation unit keeps its own flags: compile separately, link together.
aarch64-linux-gnu-g++ -std=c++17 -O2 -Inative -c native/src/isa/serial.cc -o "$out.serial.o"
aarch64-linux-gnu-g++ -std=c++17 -O2 -Inative $flags -c native/src/isa/neon.cc -o "$out.neon.o"
aarch64-linux-gnu-g++ -std=c++17 -O2 -Inative -static native/test/tier_check.cc native/src/dispatch.cc \
  "$out.serial.o" "$out.neon.o" -o "$out"
qemu-aarch64 "$out"
