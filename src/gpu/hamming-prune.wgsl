// The fast path of Hamming top-k: prune by a bound, then select among the few
// rows left. Concatenated after hamming.wgsl (its bindings and helpers) and
// one of the append helpers (hamming-append*.wgsl).
//
// sampleBound: one workgroup per query; the exact k-th smallest distance over
// a sample of the first segment: runs of SAMPLE_RUN adjacent rows (contiguous
// loads, where single rows `stride` apart would each cost a memory
// transaction) spread over the segment. Those rows are distinct rows of the
// base, so the base's k-th distance is at most this bound U: a row farther
// than U cannot be in the result, and every row that can is within it (ties
// included). It also empties the query's candidate list for filterRows,
// which runs after it, so a search needs no clearing command of its own.
// filterRows: one workgroup per (tile of QT queries, chunk of CHUNK rows).
// The tile sits in workgroup memory; each row is read once for all QT
// queries, and a (row, query) pair within the query's bound is appended to
// the query's candidate list. For random codes, k = 10 and a sample of 16,384
// rows, about one row in 1,600 passes: no per-row selection work is left.
// selectTopK: one workgroup per query over its list (unordered): the k-th
// distance T from a histogram; ties at T keep the smallest ids, found by
// radix selection over the ids, 8 bits a round.
// A list that outgrew its `cap` slots is marked by its count and left to the
// exact path (chunkTopK / mergeTopK).

const QTMAX: u32 = 16u;
const SAMPLE_RUN: u32 = 256u;
override QT: u32 = 8u;  // queries per filter tile: 1, 2, 4, 8 or 16

var<workgroup> tile: array<u32, QT * WORDS>;
var<workgroup> tileLimit: array<u32, QTMAX>;  // bound + 1; 0 for a slot past the block
var<workgroup> radix: array<atomic<u32>, 256>;
var<workgroup> listLength: u32;
var<workgroup> cut: vec3<u32>;  // (T, ties to take, ties at T) or, while selecting ids, (prefix, left, -)

@compute @workgroup_size(WG)
fn sampleBound(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let q = wid.x;
  clearHistogram(t);
  for (var w = t; w < WORDS; w += WG) {
    qv[w] = queryWord(q, w);
  }
  if (t == 0u) {
    atomicStore(&counts[q], 0u);
  }
  workgroupBarrier();
  // Four rows a step, all their loads issued before any histogram update: an
  // atomic between them would hold the next loads back, and one workgroup
  // scans the whole sample of a single query.
  for (var i = t; i < p.sample; i += 4u * WG) {
    var d = array<u32, 4>(EMPTY, EMPTY, EMPTY, EMPTY);
    for (var u = 0u; u < 4u; u++) {
      let s = i + u * WG;
      if (s < p.sample) {
        d[u] = rowDistance((s / SAMPLE_RUN) * p.stride + s % SAMPLE_RUN);
      }
    }
    for (var u = 0u; u < 4u; u++) {
      if (d[u] != EMPTY) {
        atomicAdd(&hist[d[u]], 1u);
      }
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    threshold(min(p.k, p.sample));
    bounds[q] = sel.x;
  }
}

@compute @workgroup_size(WG)
fn filterRows(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let q0 = wid.x * QT;
  for (var e = t; e < QT * WORDS; e += WG) {
    let qi = e / WORDS;
    tile[e] = select(0u, queryWord(q0 + qi, e % WORDS), q0 + qi < p.nq);
  }
  for (var qi = t; qi < QT; qi += WG) {
    tileLimit[qi] = select(0u, bounds[q0 + qi] + 1u, q0 + qi < p.nq);
  }
  workgroupBarrier();
  let r0 = wid.y * CHUNK;
  // Every invocation runs every iteration (a row past the segment reads the
  // last row and passes nothing), so the append helper may use subgroup
  // operations.
  for (var i = 0u; i < RPT; i++) {
    let r = r0 + i * WG + t;
    let row = min(r, p.n - 1u);
    var acc = array<u32, QTMAX>();
    for (var w = 0u; w < WORDS; w++) {
      let x = base[w * p.pitch + row];
      for (var qi = 0u; qi < QT; qi++) {
        acc[qi] += countOneBits(x ^ tile[qi * WORDS + w]);
      }
    }
    for (var qi = 0u; qi < QT; qi++) {
      append(q0 + qi, r < p.n && acc[qi] < tileLimit[qi], acc[qi], p.rowBase + row);
    }
  }
}

@compute @workgroup_size(WG)
fn selectTopK(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let q = wid.x;
  clearHistogram(t);
  if (t == 0u) {
    atomicStore(&slot, 0u);
    listLength = atomicLoad(&counts[q]);
  }
  let m = workgroupUniformLoad(&listLength);
  if (m > p.cap) {
    return;
  }
  let o = q * p.cap;
  // As in sampleBound: four loads in flight before the histogram updates.
  for (var e = t; e < m; e += 4u * WG) {
    var d = array<u32, 4>(EMPTY, EMPTY, EMPTY, EMPTY);
    for (var u = 0u; u < 4u; u++) {
      if (e + u * WG < m) {
        d[u] = candD[o + e + u * WG];
      }
    }
    for (var u = 0u; u < 4u; u++) {
      if (d[u] != EMPTY) {
        atomicAdd(&hist[d[u]], 1u);
      }
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    threshold(min(p.k, m));
    cut = vec3<u32>(sel.x, sel.y, atomicLoad(&hist[sel.x]));
  }
  let s = workgroupUniformLoad(&cut);
  let T = s.x;
  // The largest id kept at distance T: every tie when all are needed, else
  // the need-th smallest tie id, digit by digit from the top.
  var idCut = 0xffffffffu;
  if (s.y < s.z) {
    var prefix = 0u;
    var left = s.y;
    for (var shift = 24i; shift >= 0i; shift -= 8i) {
      for (var b = t; b < 256u; b += WG) {
        atomicStore(&radix[b], 0u);
      }
      workgroupBarrier();
      let sh = u32(shift);
      for (var e = t; e < m; e += WG) {
        let id = candI[o + e];
        if (candD[o + e] == T && (sh == 24u || (id >> (sh + 8u)) == (prefix >> (sh + 8u)))) {
          atomicAdd(&radix[(id >> sh) & 255u], 1u);
        }
      }
      workgroupBarrier();
      if (t == 0u) {
        var g = 0u;
        loop {
          let h = atomicLoad(&radix[g]);
          if (h >= left) {
            break;
          }
          left -= h;
          g++;
        }
        cut = vec3<u32>(prefix | (g << sh), left, 0u);
      }
      let c = workgroupUniformLoad(&cut);
      prefix = c.x;
      left = c.y;
    }
    idCut = prefix;
  }
  for (var e = t; e < m; e += WG) {
    let de = candD[o + e];
    let ie = candI[o + e];
    if (de < T || (de == T && ie <= idCut)) {
      let k = atomicAdd(&slot, 1u);
      keptD[k] = de;
      keptI[k] = ie;
    }
  }
  workgroupBarrier();
  writeSorted(t, atomicLoad(&slot), q * p.k, true);
}
