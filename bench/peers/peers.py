#!/usr/bin/env python3
"""numpy and FAISS peers for `npm run bench`, on the same shapes (W2: the same
codes, read from the files the Node side wrote). Timed as mean of runs after a
warm-up; one thread (FAISS's OpenMP pool is set to 1)."""
import json
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:
    faiss = None


def mean_time(fn, runs=3):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return sum(ts) / len(ts)


def main():
    cfg = json.loads(sys.argv[1])
    rows = []
    out = {"numpy": np.__version__, "faiss": getattr(faiss, "__version__", "present") if faiss else None, "rows": rows}
    rng = np.random.default_rng(1)

    if "w1" in cfg:
        n, d = cfg["w1"]["rows"], cfg["w1"]["dim"]
        x = rng.standard_normal((n, d), dtype=np.float32)

        def pack():
            np.packbits(x > 0, axis=1, bitorder="little")
            np.abs(x).mean(axis=1)

        rows.append({"workload": "W1", "impl": "numpy packbits + mean|x|", "seconds": mean_time(pack)})
        del x

    if "w2" in cfg:
        w = cfg["w2"]
        B = (w["dim"] + 7) // 8
        base = np.fromfile(w["base"], dtype=np.uint8).reshape(-1, B)
        queries = np.fromfile(w["queries"], dtype=np.uint8).reshape(-1, B)
        k = w["k"]
        pop = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
        singles = queries[: w["singleQueries"]]

        def numpy_single():
            for q in singles:
                dist = pop[np.bitwise_xor(base, q)].sum(axis=1, dtype=np.int32)
                top = np.argpartition(dist, k)[:k]
                top[np.lexsort((top, dist[top]))]

        rows.append({"workload": "W2 single", "impl": "numpy (LUT popcount + argpartition)",
                     "seconds": mean_time(numpy_single, runs=1) / len(singles), "queries": 1})
        if faiss is not None:
            faiss.omp_set_num_threads(1)
            index = faiss.IndexBinaryFlat(w["dim"])
            index.add(base)
            batch = queries[: w["batchQueries"]]
            result = {}

            def faiss_batch():
                result["D"], result["I"] = index.search(batch, k)

            rows.append({"workload": "W2 batch", "impl": "FAISS IndexBinaryFlat (1 thread)",
                         "seconds": mean_time(faiss_batch), "queries": len(batch)})

            def faiss_single():
                for i in range(len(singles)):
                    index.search(singles[i:i + 1], k)

            rows.append({"workload": "W2 single", "impl": "FAISS IndexBinaryFlat (1 thread)",
                         "seconds": mean_time(faiss_single) / len(singles), "queries": 1})
            out["faissDistances"] = result["D"].astype(int).ravel().tolist()

    if "w4" in cfg and faiss is not None:
        w = cfg["w4"]
        faiss.omp_set_num_threads(w["threads"])
        base = np.fromfile(w["base"], dtype=np.uint8).reshape(-1, 48)
        queries = np.fromfile(w["queries"], dtype=np.uint8).reshape(-1, 48)
        index = faiss.IndexBinaryFlat(384)
        index.add(base)
        rows.append({"workload": "W4 index batch", "impl": f"FAISS IndexBinaryFlat ({w['threads']} threads)",
                     "seconds": mean_time(lambda: index.search(queries, 10)), "queries": len(queries)})
        singles = queries[:20]

        def single():
            for i in range(len(singles)):
                index.search(singles[i:i + 1], 10)

        rows.append({"workload": "W4 index single", "impl": f"FAISS IndexBinaryFlat ({w['threads']} threads)",
                     "seconds": mean_time(single) / len(singles), "queries": 1})
        faiss.omp_set_num_threads(1)

    if "w3" in cfg:
        n, m = cfg["w3"]["n"], cfg["w3"]["d"]
        x = rng.standard_normal((n, m), dtype=np.float32)
        rows.append({"workload": "W3 median", "impl": "numpy.median(axis=0)",
                     "seconds": mean_time(lambda: np.median(x, axis=0), runs=2)})
        cut = int(cfg["w3"]["trim"] * n)
        rows.append({"workload": "W3 trimmed mean", "impl": "numpy sort + mean (scipy trim_mean)",
                     "seconds": mean_time(lambda: np.sort(x, axis=0)[cut:n - cut].mean(axis=0), runs=2)})
        del x
        codes = rng.integers(0, 256, size=(n, m // 8), dtype=np.uint8)

        def majority():
            counts = np.unpackbits(codes, axis=1, bitorder="little").sum(axis=0, dtype=np.int32)
            np.packbits(2 * counts >= n, bitorder="little")

        rows.append({"workload": "W3 majority", "impl": "numpy unpackbits + sum + packbits", "seconds": mean_time(majority)})

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
