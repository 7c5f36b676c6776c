package io.cleave.core.measure;

/** Nearest-rank percentiles of sorted samples, the one definition every report in Cleave uses. */
public final class Percentiles {
    private Percentiles() {}

    /** The {@code p}-th percentile (0 < p <= 100) of {@code sorted}, ascending; NaN when there is none. */
    public static double of(double[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[rank(sorted.length, p)];
    }

    /** Same for integral samples (e.g. nanoseconds); NaN when there is none. */
    public static double of(long[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[rank(sorted.length, p)];
    }

    private static int rank(int n, double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        return Math.max(0, Math.min(n - 1, (int) Math.ceil(p / 100 * n) - 1));
    }
}
