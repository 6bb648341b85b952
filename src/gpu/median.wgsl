// Coordinate-wise median / trimmed mean for n <= 64 rows. The program is
// written per n and vector width V (columns.ts): each invocation takes V
// adjacent columns as one vector (vec4/vec2 loads; f32 where the row length
// is odd) and walks a grid-stride loop over the column groups, so a few
// thousand workgroups of 256 stream the whole block whatever its size.
// All n loads come first, with no branch between them (a NaN or infinity is
// only flagged, and looked up after the loads), so they are in flight
// together. The column is then sorted by a network written out for this n
// (sorting-network.ts): each value a variable of its own, each
// compare-exchange on literal names (min/max act per lane, so V columns sort
// at once), and exchanges that cannot reach the wanted positions are left
// out. The median is bit-exact (float32 average of the middle pair); the
// trimmed mean sums in f32 (WGSL has no f64), so it matches the reference
// within a stated tolerance.
// SHAPE: N, V, the vector types and lane(), written per n and V by columns.ts.

// PARAMS: struct Params, declared in columns.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rows: array<VT>;
@group(0) @binding(2) var<storage, read_write> outValues: array<VT>;
@group(0) @binding(3) var<storage, read_write> badIndex: array<atomic<u32>>;

const WG: u32 = 256u;

// The first non-finite value of group g, as a flat index into the block (row-major, d per row).
fn reportBad(g: u32) {
  for (var i = 0u; i < N; i++) {
    for (var l = 0u; l < V; l++) {
      let j = g * V + l;
      let bits = bitcast<u32>(lane(rows[i * p.groups + g], l));
      if ((bits & 0x7f800000u) == 0x7f800000u) {
        atomicMin(&badIndex[0], i * p.d + j);
      }
    }
  }
}

@compute @workgroup_size(WG)
fn column(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var g = gid.x; g < p.groups; g += nwg.x * WG) {
    // COLUMN: loads, exchanges and the statistic, written per n and V by columns.ts.
  }
}
