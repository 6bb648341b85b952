/* The "plain scalar C loop" peer of `npm run bench`: exact top-k by XOR +
 * hardware popcount, one query at a time, an insertion-sorted top-k, queries
 * split over OpenMP threads. Reads the same code files as the FAISS peer.
 * usage: plain_loop BASE QUERIES BYTES_PER_ROW K THREADS -> prints seconds */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t* slurp(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* p = malloc(*len + 8);
  if (fread(p, 1, *len, f) != *len) {
    perror("read");
    exit(1);
  }
  fclose(f);
  return p;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: plain_loop BASE QUERIES BYTES_PER_ROW K THREADS\n");
    return 2;
  }
  size_t nb, nqb;
  uint8_t* base = slurp(argv[1], &nb);
  uint8_t* queries = slurp(argv[2], &nqb);
  const size_t B = (size_t)atoi(argv[3]), k = (size_t)atoi(argv[4]);
  const size_t n = nb / B, nq = nqb / B, W = B / 8;
  omp_set_num_threads(atoi(argv[5]));
  int32_t* out = malloc(nq * k * sizeof(int32_t));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
#pragma omp parallel for schedule(dynamic)
  for (size_t q = 0; q < nq; ++q) {
    uint32_t bestD[1024];
    int32_t bestI[1024];
    size_t have = 0;
    const uint8_t* qp = queries + q * B;
    for (size_t r = 0; r < n; ++r) {
      const uint8_t* rp = base + r * B;
      uint32_t d = 0;
      for (size_t w = 0; w < W; ++w) {
        uint64_t a, b;
        memcpy(&a, rp + 8 * w, 8);
        memcpy(&b, qp + 8 * w, 8);
        d += (uint32_t)__builtin_popcountll(a ^ b);
      }
      if (have == k && d >= bestD[k - 1]) continue;
      size_t i = have < k ? have++ : k - 1;
      while (i > 0 && bestD[i - 1] > d) {
        bestD[i] = bestD[i - 1];
        bestI[i] = bestI[i - 1];
        --i;
      }
      bestD[i] = d;
      bestI[i] = (int32_t)r;
    }
    memcpy(out + q * k, bestI, k * sizeof(int32_t));
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.6f %d\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, out[0]);
  return 0;
}
