// The device's streaming-read bandwidth as WGSL sees it: the limit the
// benchmark states kernel figures against (a copy moves every byte twice and
// runs at a fraction of it). 16-byte loads, a grid-stride loop with four
// independent loads in flight per invocation, and a buffer much larger than
// any cache. What was read is folded into one XOR (so the loads cannot be
// elided, and the result can be checked exactly).
// PARAMS: struct Params, declared in stream-read.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> result: array<atomic<u32>>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn streamRead(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  var acc = vec4<u32>(0u);
  var i = gid.x;
  for (; i + 3u * stride < p.vectors; i += 4u * stride) {
    acc ^= data[i] ^ data[i + stride] ^ data[i + 2u * stride] ^ data[i + 3u * stride];
  }
  for (; i < p.vectors; i += stride) {
    acc ^= data[i];
  }
  let x = acc.x ^ acc.y ^ acc.z ^ acc.w;
  if (x != 0u) {
    atomicXor(&result[0], x);
  }
}
