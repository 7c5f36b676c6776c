package io.cleave.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The hindsight bound, as measured: <b>the best of the policies run</b>. For each request index of
 * a trace x device x deadline (the same image at the same offset into the trace under every policy),
 * the best answer any policy's run actually delivered: right and in time if any run's was,
 * else the deepest exit that arrived in time (none if every run was late).
 *
 * <p>It is a bound on what the plans that were run could have achieved with perfect per-request
 * choice, computed by replaying the measured outcomes; it is not the best over every candidate plan
 * (a plan no policy chose is not in it), and because it takes the best of several noisy runs it is
 * biased upwards by their timing noise. No policy can exceed it per request, so the interesting
 * quantity is the gap from cleave and the oracle to it. {@link ReplayBound} searches every candidate
 * plan instead, by replay.
 */
final class Hindsight {
    private Hindsight() {}

    /**
     * @param policies the runs it takes the best of
     * @param accuracy fraction of requests some run answered right in time, with its Wilson interval
     * @param hitRate fraction of requests some run answered in time
     * @param meanDepth mean over requests of the deepest in-time exit block (0 when all were late)
     */
    record Bound(String trace, String device, double deadlineMs, int requests, List<String> policies, double accuracy, double accuracyLow,
            double accuracyHigh, double hitRate, double meanDepth, double depthLow, double depthHigh) {
        Stats.Interval score(Metric metric) {
            return metric == Metric.ACCURACY ? new Stats.Interval(accuracy, accuracyLow, accuracyHigh)
                    : new Stats.Interval(meanDepth, depthLow, depthHigh);
        }
    }

    /** Per request index of a cell, the best score under {@code metric} over every policy's run (the bound's per-request values). */
    static Map<RequestRecord.Cell, TreeMap<Integer, Double>> perRequest(List<RequestRecord> rows, Metric metric) {
        Map<RequestRecord.Cell, TreeMap<Integer, Double>> out = new LinkedHashMap<>();
        for (RequestRecord r : rows) {
            out.computeIfAbsent(r.cell(), c -> new TreeMap<>()).merge(r.request(), metric.score(r), Math::max);
        }
        return out;
    }

    /** One bound per trace x device x deadline. */
    static List<Bound> of(List<RequestRecord> rows) {
        Map<RequestRecord.Cell, List<RequestRecord>> cells = new LinkedHashMap<>();
        rows.forEach(r -> cells.computeIfAbsent(r.cell(), c -> new ArrayList<>()).add(r));
        List<Bound> out = new ArrayList<>();
        cells.forEach((cell, rs) -> {
            TreeMap<Integer, Double> correct = perRequest(rs, Metric.ACCURACY).get(cell);
            TreeMap<Integer, Double> depth = perRequest(rs, Metric.DEPTH).get(cell);
            TreeMap<Integer, Boolean> hit = new TreeMap<>();
            rs.forEach(r -> hit.merge(r.request(), r.deadlineMet(), Boolean::logicalOr));
            int n = correct.size();
            long k = correct.values().stream().filter(v -> v > 0).count();
            Stats.Interval acc = Stats.wilson(k, n);
            Stats.Interval d = Stats.mean(depth.values().stream().mapToDouble(Double::doubleValue).toArray());
            List<String> policies = rs.stream().map(RequestRecord::policy).distinct().toList();
            out.add(new Bound(cell.trace(), cell.device(), cell.deadlineMs(), n, policies, acc.estimate(), acc.low(), acc.high(),
                    hit.values().stream().filter(b -> b).count() / (double) Math.max(1, n), d.estimate(), d.low(), d.high()));
        });
        return out;
    }

    /** Each reference policy (cleave, oracle) against the bound, paired on the same requests. */
    static List<Comparisons.Paired> gaps(List<RequestRecord> rows, Metric metric) {
        Map<RequestRecord.Cell, TreeMap<Integer, Double>> best = perRequest(rows, metric);
        List<Comparisons.Paired> out = new ArrayList<>();
        Comparisons.scores(rows, metric).forEach((cell, byPolicy) -> {
            for (String ref : Comparisons.REFERENCES) {
                if (byPolicy.containsKey(ref)) {
                    out.add(Comparisons.pair(cell, ref, byPolicy.get(ref), "best of the policies run", best.get(cell)));
                }
            }
        });
        return out;
    }
}
