enable subgroups;
// filterRows calls append from uniform control flow (every invocation runs
// every iteration), and the branch below depends only on a ballot, which is
// the same across the subgroup; the analysis cannot see either.
diagnostic(off, subgroup_uniformity);

// hamming-append.wgsl with one atomic per subgroup instead of one per entry:
// a ballot skips the common case (nobody passes) for one vote instruction,
// and where rows pass together (large k, clustered codes) the subgroup
// reserves its slots at once and each invocation writes at its prefix count.
fn append(q: u32, take: bool, d: u32, id: u32) {
  let votes = subgroupBallot(take);
  if (any(votes != vec4<u32>(0u))) {
    let total = countOneBits(votes.x) + countOneBits(votes.y) + countOneBits(votes.z) + countOneBits(votes.w);
    let before = subgroupExclusiveAdd(u32(take));
    var start = 0u;
    if (subgroupElect()) {
      start = atomicAdd(&counts[q], total);
    }
    let s = subgroupBroadcastFirst(start) + before;
    if (take && s < p.cap) {
      candD[q * p.cap + s] = d;
      candI[q * p.cap + s] = id;
    }
  }
}
