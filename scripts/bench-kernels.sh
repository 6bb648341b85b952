#!/usr/bin/env bash
# Builds native/bench/kernel_bench.cc with every kernel translation unit of
# this architecture, each with its own flags from native/isa-flags.json, and
# runs it: kernel times without Node (see the README's performance notes).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(node -p "process.arch === 'arm64' ? 'arm64' : 'x64'")
out="$(mktemp -d)"
objs=()
for isa in $(node -p "Object.keys(require('./native/isa-flags.json').$arch).join(' ')"); do
  src=$(node -p "require('./native/isa-flags.json').$arch.$isa.source")
  flags=$(node -p "require('./native/isa-flags.json').$arch.$isa.flags.join(' ')")
  g++ -std=c++17 -O3 -Inative $flags -c "$src" -o "$out/$isa.o"
  objs+=("$out/$isa.o")
done
g++ -std=c++17 -O3 -Inative native/bench/kernel_bench.cc native/src/dispatch.cc "${objs[@]}" -o "$out/kernel_bench"
"$out/kernel_bench"
