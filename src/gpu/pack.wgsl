// Sign packing (BitDelta) for one chunk of rows.
// packBits: one invocation per (row, 32-dim word): bit b = (x - baseline) > 0
// for dim 32w + b, the same little bit order as the byte codes.
// packScales: one invocation per (row, group): mean |x - baseline|, summed
// pairwise in f32 (WGSL has no f64; scales are compared with a tolerance, and
// a sum that overflows f32 is redone at a smaller scale).
// PARAMS: struct Params, declared in pack.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> baseline: array<f32>;
@group(0) @binding(3) var<storage, read_write> codes: array<u32>;
@group(0) @binding(4) var<storage, read_write> scales: array<f32>;
@group(0) @binding(5) var<storage, read_write> badRow: array<atomic<u32>>;

const WG: u32 = 64u;

// Exponent all ones: Inf or NaN. Bit test, not a float compare, so no
// finite-math assumption of the shader compiler can fold it away.
fn nonFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

fn delta(row: u32, j: u32) -> f32 {
  var v = x[row * p.dim + j];
  if (p.hasBaseline != 0u) {
    v = v - baseline[j];
  }
  return v;
}

@compute @workgroup_size(WG)
fn packBits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.words) {
    return;
  }
  let row = i / p.words;
  let j0 = (i % p.words) * 32u;
  let j1 = min(j0 + 32u, p.dim);
  var bits = 0u;
  for (var j = j0; j < j1; j++) {
    let v = delta(row, j);
    if (nonFinite(v)) {
      atomicMin(&badRow[0], row);
    }
    if (v > 0.0) {
      bits |= 1u << (j - j0);
    }
  }
  codes[i] = bits;
}

// |delta| over [j0, j1) of a row, each term times `scale`, in four f32 partials.
fn blockSum(row: u32, j0: u32, j1: u32, scale: f32) -> f32 {
  var s = vec4<f32>(0.0);
  var j = j0;
  for (; j + 4u <= j1; j += 4u) {
    s += abs(vec4<f32>(delta(row, j), delta(row, j + 1u), delta(row, j + 2u), delta(row, j + 3u))) * scale;
  }
  var t = (s.x + s.y) + (s.z + s.w);
  for (; j < j1; j++) {
    t += abs(delta(row, j)) * scale;
  }
  return t;
}

// Blocks of 32 terms folded pairwise like a binary counter: the rounding
// error grows with log2 of the group's length rather than with the length.
fn groupSum(row: u32, j0: u32, j1: u32, scale: f32) -> f32 {
  var stack: array<f32, 32>;
  var depth = 0u;
  var blocks = 0u;
  for (var j = j0; j < j1; j += 32u) {
    var s = blockSum(row, j, min(j + 32u, j1), scale);
    blocks++;
    for (var b = blocks; (b & 1u) == 0u; b >>= 1u) {
      depth--;
      s = stack[depth] + s;
    }
    stack[depth] = s;
    depth++;
  }
  var t = 0.0;
  while (depth > 0u) {
    depth--;
    t = stack[depth] + t;
  }
  return t;
}

@compute @workgroup_size(WG)
fn packScales(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.groups) {
    return;
  }
  let row = i / p.groups;
  let j0 = (i % p.groups) * p.groupSize;
  let j1 = min(j0 + p.groupSize, p.dim);
  let count = f32(j1 - j0);
  let t = groupSum(row, j0, j1, 1.0);
  if (nonFinite(t)) {
    // Only terms near FLT_MAX overflow the sum: summed again at 2^-32 (exact
    // for them), the mean scaled back; it cannot exceed the largest term.
    scales[i] = min(groupSum(row, j0, j1, 0x1p-32f) / count * 0x1p32f, 0x1.fffffep+127f);
  } else {
    scales[i] = t / count;
  }
}
