// Dequantize one chunk of rows: baseline + (bit ? +scale : -scale), one
// invocation per value. Without a baseline the signed scale is stored as is.
// PARAMS: struct Params, declared in pack.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> baseline: array<f32>;
@group(0) @binding(4) var<storage, read_write> outValues: array<f32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn dequantize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.dim) {
    return;
  }
  let row = i / p.dim;
  let j = i % p.dim;
  let bit = (codes[row * p.words + j / 32u] >> (j % 32u)) & 1u;
  let s = scales[row * p.groups + j / p.groupSize];
  var v = select(-s, s, bit == 1u);
  if (p.hasBaseline != 0u) {
    v = baseline[j] + v;
  }
  outValues[i] = v;
}
