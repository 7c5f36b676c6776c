package io.cleave.experiment;

/**
 * The interval statistics the reports use, all at 95% (z = 1.96).
 *
 * <ul>
 *   <li>{@link #wilson}: the Wilson score interval for a proportion (accuracy at deadline, deadline
 *       hits); unlike the normal (Wald) interval it stays inside [0, 1] and is not zero-width at 0 or n.
 *   <li>{@link #paired}: a paired difference of per-request scores on the same images (request i of
 *       two runs used image i): mean of the per-request differences ± 1.96 · sd / √n, sd the sample
 *       standard deviation of the differences (normal approximation; for 0/1 scores this is the
 *       paired-proportion difference whose variance McNemar's test uses). When no request differs the
 *       interval is [0, 0]: the runs agree on every image, not an estimate of noise.
 *   <li>{@link #mean}: a mean with the same normal interval (mean exit depth of an untrained pack).
 * </ul>
 */
final class Stats {
    static final double Z95 = 1.959963984540054;

    private Stats() {}

    /** An estimate with its 95% interval. */
    record Interval(double estimate, double low, double high) {
        double halfWidth() {
            return (high - low) / 2;
        }

        /** Whether the whole interval lies above zero. */
        boolean above(double v) {
            return low > v;
        }

        boolean below(double v) {
            return high < v;
        }
    }

    /** Wilson score interval for {@code k} successes in {@code n} trials; NaNs when n is 0. */
    static Interval wilson(long k, long n) {
        if (n <= 0) {
            return new Interval(Double.NaN, Double.NaN, Double.NaN);
        }
        if (k < 0 || k > n) {
            throw new IllegalArgumentException(k + " successes in " + n + " trials");
        }
        double p = (double) k / n;
        double z2 = Z95 * Z95;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denom;
        double half = Z95 / denom * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Interval(p, Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /** Mean of {@code v} ± 1.96 · sd / √n (sample sd); NaNs when empty, a point when n is 1. */
    static Interval mean(double[] v) {
        int n = v.length;
        if (n == 0) {
            return new Interval(Double.NaN, Double.NaN, Double.NaN);
        }
        double m = 0;
        for (double x : v) {
            m += x;
        }
        m /= n;
        if (n == 1) {
            return new Interval(m, m, m);
        }
        double ss = 0;
        for (double x : v) {
            ss += (x - m) * (x - m);
        }
        double half = Z95 * Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
        return new Interval(m, m - half, m + half);
    }

    /** Paired difference {@code a[i] - b[i]} over the same requests: its mean with a 95% interval. */
    static Interval paired(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("paired samples must have the same length: " + a.length + " vs " + b.length);
        }
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a[i] - b[i];
        }
        return mean(d);
    }

    /**
     * Requests needed for a 95% half-width of {@code halfWidth} given the per-request variance seen
     * in an interval over {@code n} requests; 0 when that interval has no width.
     */
    static long requestsFor(Interval seen, int n, double halfWidth) {
        double sd = seen.halfWidth() / Z95 * Math.sqrt(n);
        return (long) Math.ceil(Math.pow(Z95 * sd / halfWidth, 2));
    }
}
