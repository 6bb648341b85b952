// Appends (d, id) to query q's candidate list when `take`, one atomic per
// entry: few rows pass the bound, so contention is rare. A count past `cap`
// marks the list as overflowed (nothing is written past it).
fn append(q: u32, take: bool, d: u32, id: u32) {
  if (take) {
    let s = atomicAdd(&counts[q], 1u);
    if (s < p.cap) {
      candD[q * p.cap + s] = d;
      candI[q * p.cap + s] = id;
    }
  }
}
