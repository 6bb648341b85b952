// Lays rows of resident codes out word-major in their segment (word w of
// segment row r at w * pitch + r) from a row-major upload, clearing each
// row's padding bits, so the Hamming programs read contiguous runs and need
// no mask per row. Appended rows land at row0 onwards, after those present.
// PARAMS: struct Params, declared in resident-codes.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn toWordMajor(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) {
    return;
  }
  let d = p.row0 + r;
  for (var w = 0u; w + 1u < p.words; w++) {
    dst[w * p.pitch + d] = src[r * p.words + w];
  }
  let last = p.words - 1u;
  dst[last * p.pitch + d] = src[r * p.words + last] & p.lastMask;
}
