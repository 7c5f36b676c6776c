package io.cleave.worker.batch;

import io.cleave.core.pack.Segments;

/**
 * Measured compute time per (segment, batch size), kept current with an exponentially weighted
 * mean of live runs after a start-up calibration. Segments are numbered by {@link Segments}.
 * Batch sizes between measured ones are interpolated linearly.
 */
public final class ComputeProfile {
    private static final double ALPHA = 0.2;

    private final double[][] meanNanos; // [segment][batch], 0 = unknown

    public ComputeProfile(Segments segments, int maxBatch) {
        this.meanNanos = new double[segments.count()][maxBatch + 1];
    }

    public int maxBatch() {
        return meanNanos[0].length - 1;
    }

    public synchronized void record(int segment, int batch, long nanos) {
        double[] row = meanNanos[segment];
        int b = Math.min(batch, row.length - 1);
        row[b] = row[b] == 0 ? nanos : row[b] + ALPHA * (nanos - row[b]);
    }

    /** Predicted nanoseconds to run {@code segment} on a batch of {@code batch}. */
    public synchronized double predict(int segment, int batch) {
        double[] row = meanNanos[segment];
        int b = Math.max(1, Math.min(batch, row.length - 1));
        if (row[b] > 0) {
            return row[b];
        }
        int lo = b - 1;
        while (lo >= 1 && row[lo] == 0) {
            lo--;
        }
        int hi = b + 1;
        while (hi < row.length && row[hi] == 0) {
            hi++;
        }
        if (lo >= 1 && hi < row.length) {
            return row[lo] + (row[hi] - row[lo]) * (b - lo) / (hi - lo);
        }
        if (lo >= 1) {
            return row[lo] * b / lo; // extrapolate: at worst linear in batch
        }
        if (hi < row.length) {
            return row[hi];
        }
        return 0;
    }

    /** Snapshot of measured means: [segment][batch] in nanoseconds, 0 where never measured. */
    public synchronized double[][] snapshot() {
        double[][] copy = new double[meanNanos.length][];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = meanNanos[i].clone();
        }
        return copy;
    }
}
