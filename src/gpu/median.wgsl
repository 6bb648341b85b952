// Coordinate-wise median / trimmed mean for n <= 64 rows, one invocation per
// coordinate (adjacent invocations read adjacent floats of each row). Each
// column is insertion-sorted in registers. The median is bit-exact (float32
// average of the middle pair); the trimmed mean sums in f32 (WGSL has no
// f64), so it matches the reference within a stated tolerance.
struct Params {
  n: u32,
  d: u32,
  cut: u32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> outValues: array<f32>;
@group(0) @binding(3) var<storage, read_write> badIndex: array<atomic<u32>>;

const WG: u32 = 64u;

fn nonFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

fn sortedColumn(j: u32, a: ptr<function, array<f32, 64>>) {
  for (var i = 0u; i < p.n; i++) {
    let v = rows[i * p.d + j];
    if (nonFinite(v)) {
      atomicMin(&badIndex[0], i * p.d + j);
    }
    var k = i;
    while (k > 0u && (*a)[k - 1u] > v) {
      (*a)[k] = (*a)[k - 1u];
      k--;
    }
    (*a)[k] = v;
  }
}

@compute @workgroup_size(WG)
fn median(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.d) {
    return;
  }
  var a: array<f32, 64>;
  sortedColumn(j, &a);
  let h = p.n / 2u;
  if ((p.n & 1u) == 1u) {
    outValues[j] = a[h];
  } else {
    outValues[j] = (a[h - 1u] + a[h]) * 0.5;
  }
}

@compute @workgroup_size(WG)
fn trimmedMean(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.d) {
    return;
  }
  var a: array<f32, 64>;
  sortedColumn(j, &a);
  var s = 0.0;
  for (var i = p.cut; i < p.n - p.cut; i++) {
    s += a[i];
  }
  outValues[j] = s / f32(p.n - 2u * p.cut);
}
