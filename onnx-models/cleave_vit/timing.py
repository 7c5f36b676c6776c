"""Latency measurement shared by the benchmark and the exit study."""
import time


def median_us(fn, x, warmup=20, iters=200):
    """Median wall time of fn(x) in microseconds, after warm-up calls."""
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        fn(x)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    return times[len(times) // 2] / 1e3
