#!/usr/bin/env bash
# Runs native/test/tier_check.cc (every kernel of every tier this CPU runs,
# against the serial tier) built with AddressSanitizer and
# UndefinedBehaviorSanitizer: an out-of-bounds read, a use after free or
# undefined arithmetic in a kernel stops it with a report. Needs g++ with
# libasan and libubsan (Debian's g++ has both).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(node -p "process.arch")
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
san="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
# Each ISA translation unit keeps its own flags: compile separately, link together.
for isa in $(node -p "Object.keys(require('./native/isa-flags.json').$arch).join(' ')"); do
  src=$(node -p "require('./native/isa-flags.json').$arch.$isa.source")
  flags=$(node -p "require('./native/isa-flags.json').$arch.$isa.flags.join(' ')")
  # shellcheck disable=SC2086
  g++ -std=c++17 -Inative $san $flags -c "$src" -o "$out/$isa.o"
done
# shellcheck disable=SC2086
g++ -std=c++17 -Inative $san native/test/tier_check.cc native/src/dispatch.cc "$out"/*.o -o "$out/tier_check"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/tier_check"
