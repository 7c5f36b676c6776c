package io.cleave.experiment;

import io.cleave.core.pack.Segments;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.core.plan.PackStats;
import io.cleave.edge.measure.EdgeMeasurements;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one run's edge measured of the segments' compute times, nanoseconds, numbered by
 * {@link Segments} as the edge numbers them: the device's median over its recent
 * runs of each segment it holds (emulated slowdown included), and the worker's profile at batch 1.
 *
 * @param edge NaN: never run on the device
 * @param cloud 0: the worker's profile was never seen
 */
record SegmentTimes(double[] edge, double[] cloud) {

    /** At the end of a run, before its edge closes ({@code m} null: an edge without measurements, nothing known). */
    static SegmentTimes of(EdgeMeasurements m, Segments segments) {
        double[] e = new double[segments.count()];
        double[] c = new double[segments.count()];
        Arrays.fill(e, Double.NaN);
        for (int i = 0; m != null && i < segments.count(); i++) {
            e[i] = m.edgeQuantile(i, 0.5);
            c[i] = m.cloudProfile(i);
        }
        return new SegmentTimes(e, c);
    }

    /**
     * The runs of one cell taken together, per segment the median of the runs' values, as the
     * replay's times for a device holding {@code kMax} blocks; null when a segment the replay needs
     * was never measured in any of them.
     */
    static Costs pooled(List<SegmentTimes> runs, PackStats pack, int kMax) {
        Segments segments = Segments.numbering(pack.blocks(), pack.exits());
        double[] edge = new double[segments.count()];
        double[] cloud = new double[segments.count()];
        for (int i = 0; i < segments.count(); i++) {
            int seg = i;
            edge[i] = median(runs.stream().mapToDouble(r -> r.edge()[seg]).filter(v -> !Double.isNaN(v)).toArray());
            cloud[i] = median(runs.stream().mapToDouble(r -> r.cloud()[seg]).filter(v -> v > 0).toArray());
        }
        double[] eb = new double[kMax + 1];
        double[] cb = new double[pack.blocks() + 1];
        double[] ee = new double[pack.exits()];
        double[] ce = new double[pack.exits()];
        int stem = segments.stem();
        boolean known = !Double.isNaN(edge[stem]) && !Double.isNaN(cloud[stem]);
        for (int k = 1; k <= pack.blocks(); k++) {
            cb[k] = cloud[segments.block(k)];
            known &= !Double.isNaN(cb[k]);
            if (k <= kMax) {
                eb[k] = edge[segments.block(k)];
                known &= !Double.isNaN(eb[k]);
            }
        }
        for (int e = 0; e < pack.exits(); e++) {
            int seg = segments.exit(e);
            ce[e] = cloud[seg];
            known &= !Double.isNaN(ce[e]);
            if (ExitPlacement.held(pack.exitBlock(e), kMax)) {
                ee[e] = edge[seg];
                known &= !Double.isNaN(ee[e]);
            }
        }
        return known ? new Costs(edge[stem], eb, ee, cloud[stem], cb, ce, 0, 0, 0) : null;
    }

    /** For summary.json: the times replayed, milliseconds. */
    static Map<String, Object> describe(Costs c) {
        return Map.of("deviceStemMs", ms(c.edgeStem()), "deviceBlockMs", ms(Arrays.copyOfRange(c.edgeBlock(), 1, c.edgeBlock().length)),
                "deviceExitMs", ms(c.edgeExit()), "workerStemMs", ms(c.cloudStem()),
                "workerBlockMs", ms(Arrays.copyOfRange(c.cloudBlock(), 1, c.cloudBlock().length)), "workerExitMs", ms(c.cloudExit()));
    }

    private static double ms(double nanos) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.4f", nanos / 1e6));
    }

    private static double[] ms(double[] nanos) {
        return Arrays.stream(nanos).map(SegmentTimes::ms).toArray();
    }

    private static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
