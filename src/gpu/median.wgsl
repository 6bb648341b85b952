// Coordinate-wise median / trimmed mean for n <= 64 rows, one invocation per
// coordinate (adjacent invocations read adjacent floats of each row). The
// column is sorted by a network written out for this n (sorting-network.ts):
// each value a variable of its own, each compare-exchange on literal names,
// so the column lives in registers, and exchanges that cannot reach the
// wanted positions are left out. The median is bit-exact (float32 average of
// the middle pair); the trimmed mean sums in f32 (WGSL has no f64), so it
// matches the reference within a stated tolerance.
// n and the trimmed positions are written into the program; only the
// coordinate count of this block comes at run time.
struct Params {
  d: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> outValues: array<f32>;
@group(0) @binding(3) var<storage, read_write> badIndex: array<atomic<u32>>;

const WG: u32 = 64u;

// Row i of coordinate j; a NaN or infinity records its flat index.
fn load(i: u32, j: u32) -> f32 {
  let v = rows[i * p.d + j];
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
    atomicMin(&badIndex[0], i * p.d + j);
  }
  return v;
}

@compute @workgroup_size(WG)
fn column(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.d) {
    return;
  }
  // COLUMN: loads, exchanges and the statistic, written per n by columns.ts.
}
