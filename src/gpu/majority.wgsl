// Bitwise majority over n code rows (u32-padded), one invocation per output
// word: a bit-sliced counter per bit position (planes updated with AND/XOR),
// then count >= ceil(n/2) compared plane by plane. Ties go to 1.
// PARAMS: struct Params, declared in columns.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read_write> outWords: array<u32>;

const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn majority(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = gid.x + gid.y * nwg.x * WG;
  if (w >= p.words) {
    return;
  }
  var c: array<u32, 32>;
  for (var l = 0u; l < p.planes; l++) {
    c[l] = 0u;
  }
  for (var i = 0u; i < p.n; i++) {
    var carry = codes[i * p.words + w];
    for (var l = 0u; l < p.planes; l++) {
      let t = c[l] & carry;
      c[l] = c[l] ^ carry;
      carry = t;
    }
  }
  var gt = 0u;
  var eq = 0xffffffffu;
  for (var l = p.planes; l > 0u; l--) {
    let cl = c[l - 1u];
    if (((p.threshold >> (l - 1u)) & 1u) == 1u) {
      eq = eq & cl;
    } else {
      gt = gt | (eq & cl);
      eq = eq & ~cl;
    }
  }
  var r = gt | eq;
  if (w == p.words - 1u) {
    r = r & p.lastMask;
  }
  outWords[w] = r;
}
