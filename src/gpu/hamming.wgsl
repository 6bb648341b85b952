// Exact Hamming top-k in two passes, selection by counting over the bounded
// distance range (0..dim) instead of sorting. This is the path for any input;
// hamming-prune.wgsl is the fast path and leaves to this one the queries whose
// candidates outgrew their lists.
//
// Resident codes are word-major within a segment (word w of row r at
// w * pitch + r, pitch >= n leaving room for appended rows), so adjacent
// invocations reading adjacent rows read adjacent words: every load of a
// subgroup is one contiguous run.
//
// chunkTopK: one workgroup per (query, chunk of CHUNK rows). Invocations read
// adjacent rows, add each distance to a workgroup histogram, and
// thread 0 finds the chunk's k-th distance T. Every row below T is kept; rows
// at exactly T are kept by rank in a tie bitmap, smallest ids first. The kept
// entries are ranked by (distance, id) and written sorted to the query's
// candidate slots for this chunk.
// mergeTopK: one workgroup per query over all chunks' candidates, the same
// selection; candidates are scanned in chunk order, and each chunk's list is
// sorted, so ties at T are met in increasing id order and ranked by a prefix
// count over invocations.
// PARAMS: struct Params, declared in hamming.ts

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> queries: array<u32>;
@group(0) @binding(3) var<storage, read_write> candD: array<u32>;
@group(0) @binding(4) var<storage, read_write> candI: array<u32>;
@group(0) @binding(5) var<storage, read_write> outD: array<u32>;
@group(0) @binding(6) var<storage, read_write> outI: array<u32>;
@group(0) @binding(7) var<storage, read_write> bounds: array<u32>;
@group(0) @binding(8) var<storage, read_write> counts: array<atomic<u32>>;

override WORDS: u32 = 12u;  // u32 words per padded row
override BINS: u32 = 385u;  // dim + 1

const WG: u32 = 256u;
const RPT: u32 = 16u;
const CHUNK: u32 = 4096u;  // WG * RPT
const KMAX: u32 = 256u;
const EMPTY: u32 = 0xffffffffu;

var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> qv: array<u32, WORDS>;
var<workgroup> tieBits: array<atomic<u32>, 128>;  // CHUNK / 32
var<workgroup> tieStart: array<u32, WG>;
var<workgroup> sel: vec2<u32>;                     // (T, ties to take)
var<workgroup> slot: atomic<u32>;
var<workgroup> valid: atomic<u32>;
var<workgroup> keptD: array<u32, KMAX>;
var<workgroup> keptI: array<u32, KMAX>;

fn clearHistogram(t: u32) {
  for (var b = t; b < BINS; b += WG) {
    atomicStore(&hist[b], 0u);
  }
}

// Word w of query q with its padding bits cleared; resident rows are clean
// already (transpose.wgsl clears them), so distances need no mask.
fn queryWord(q: u32, w: u32) -> u32 {
  let v = queries[q * WORDS + w];
  return select(v, v & p.lastMask, w == WORDS - 1u);
}

// Distance from segment row r to the query in qv.
fn rowDistance(r: u32) -> u32 {
  var acc = 0u;
  for (var w = 0u; w < WORDS; w++) {
    acc += countOneBits(base[w * p.pitch + r] ^ qv[w]);
  }
  return acc;
}

// Thread 0: the smallest T with count(d <= T) >= kk, and how many at T to take.
fn threshold(kk: u32) {
  var below = 0u;
  var t = 0u;
  loop {
    let h = atomicLoad(&hist[t]);
    if (below + h >= kk) {
      break;
    }
    below += h;
    t++;
  }
  sel = vec2<u32>(t, kk - below);
}

// Writes the `count` kept entries sorted by (distance, id) into slots
// [o, o + k) of (dst, dstI), EMPTY past count.
fn writeSorted(t: u32, count: u32, o: u32, toOut: bool) {
  for (var e = t; e < p.k; e += WG) {
    if (e < count) {
      let de = keptD[e];
      let ie = keptI[e];
      var rank = 0u;
      for (var f = 0u; f < count; f++) {
        let df = keptD[f];
        if (df < de || (df == de && keptI[f] < ie)) {
          rank++;
        }
      }
      if (toOut) {
        outD[o + rank] = de;
        outI[o + rank] = ie;
      } else {
        candD[o + rank] = de;
        candI[o + rank] = ie;
      }
    } else {
      if (toOut) {
        outD[o + e] = EMPTY;
        outI[o + e] = EMPTY;
      } else {
        candD[o + e] = EMPTY;
        candI[o + e] = EMPTY;
      }
    }
  }
}

@compute @workgroup_size(WG)
fn chunkTopK(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let q = wid.x;
  let chunk = wid.y;
  clearHistogram(t);
  if (t < 128u) {
    atomicStore(&tieBits[t], 0u);
  }
  for (var w = t; w < WORDS; w += WG) {
    qv[w] = queryWord(q, w);
  }
  if (t == 0u) {
    atomicStore(&slot, 0u);
  }
  workgroupBarrier();

  let r0 = chunk * CHUNK;
  var d: array<u32, RPT>;
  for (var i = 0u; i < RPT; i++) {
    let r = r0 + i * WG + t;
    var dist = EMPTY;
    if (r < p.n) {
      let acc = rowDistance(r);
      dist = acc;
      atomicAdd(&hist[acc], 1u);
    }
    d[i] = dist;
  }
  workgroupBarrier();
  if (t == 0u) {
    threshold(min(p.k, min(CHUNK, p.n - r0)));
  }
  workgroupBarrier();
  let T = sel.x;
  let need = sel.y;
  for (var i = 0u; i < RPT; i++) {
    if (d[i] == T) {
      let li = i * WG + t;
      atomicOr(&tieBits[li / 32u], 1u << (li % 32u));
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    var run = 0u;
    for (var w = 0u; w < 128u; w++) {
      tieStart[w] = run;
      run += countOneBits(atomicLoad(&tieBits[w]));
    }
  }
  workgroupBarrier();
  for (var i = 0u; i < RPT; i++) {
    let di = d[i];
    let li = i * WG + t;
    var take = di < T;
    if (di == T) {
      let below = atomicLoad(&tieBits[li / 32u]) & ((1u << (li % 32u)) - 1u);
      take = tieStart[li / 32u] + countOneBits(below) < need;
    }
    if (take) {
      let s = atomicAdd(&slot, 1u);
      keptD[s] = di;
      keptI[s] = p.rowBase + r0 + li;
    }
  }
  workgroupBarrier();
  writeSorted(t, atomicLoad(&slot), (q * p.chunks + p.chunkBase + chunk) * p.k, false);
}

@compute @workgroup_size(WG)
fn mergeTopK(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let q = wid.x;
  clearHistogram(t);
  if (t == 0u) {
    atomicStore(&slot, 0u);
    atomicStore(&valid, 0u);
  }
  workgroupBarrier();
  let total = p.chunks * p.k;
  let per = (total + WG - 1u) / WG;
  let e0 = min(total, t * per);
  let e1 = min(total, e0 + per);
  let o = q * total;
  var mine = 0u;
  for (var e = e0; e < e1; e++) {
    let de = candD[o + e];
    if (de != EMPTY) {
      atomicAdd(&hist[de], 1u);
      mine++;
    }
  }
  atomicAdd(&valid, mine);
  workgroupBarrier();
  if (t == 0u) {
    threshold(min(p.k, atomicLoad(&valid)));
  }
  workgroupBarrier();
  let T = sel.x;
  let need = sel.y;
  var ties = 0u;
  for (var e = e0; e < e1; e++) {
    if (candD[o + e] == T) {
      ties++;
    }
  }
  tieStart[t] = ties;
  workgroupBarrier();
  if (t == 0u) {
    var run = 0u;
    for (var i = 0u; i < WG; i++) {
      let c = tieStart[i];
      tieStart[i] = run;
      run += c;
    }
  }
  workgroupBarrier();
  var rank = tieStart[t];
  for (var e = e0; e < e1; e++) {
    let de = candD[o + e];
    var take = de < T;
    if (de == T) {
      take = rank < need;
      rank++;
    }
    if (take) {
      let s = atomicAdd(&slot, 1u);
      keptD[s] = de;
      keptI[s] = candI[o + e];
    }
  }
  workgroupBarrier();
  writeSorted(t, atomicLoad(&slot), q * p.k, true);
}
