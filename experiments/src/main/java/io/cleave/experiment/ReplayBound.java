package io.cleave.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The hindsight bound by replay: per request of a run, the best answer any candidate plan would
 * have produced under the realised link and compute ({@link Replay}): right and in time if any
 * plan's was, else the deepest exit in time. Each run is replayed at its own requests' send times
 * (the same schedule in every run, up to the sender's jitter), so each policy pairs with the bound of
 * exactly the requests it sent. A policy above its bound beyond the noise did what the replay says
 * no plan could: the replay leaves out something that mattered (a modelling gap, not a win).
 */
final class ReplayBound {
    static final String REFERENCE = "replay bound";

    private ReplayBound() {}

    /**
     * One run's bound.
     *
     * @param policy the run replayed: its requests' send offsets and its edge's segment times
     * @param plans candidate plans searched per request
     * @param accuracy fraction of requests some plan answered right in time, with its Wilson interval
     * @param hitRate fraction of requests some plan answered in time
     * @param meanDepth mean over requests of the deepest in-time exit's block (0 when none was in time)
     * @param inputs what was replayed: segment times, link, guard
     */
    record Bound(String trace, String device, double deadlineMs, String policy, int requests, int plans, double accuracy, double accuracyLow,
            double accuracyHigh, double hitRate, double meanDepth, double depthLow, double depthHigh, Map<String, Object> inputs) {
        Stats.Interval score(Metric metric) {
            return metric == Metric.ACCURACY ? new Stats.Interval(accuracy, accuracyLow, accuracyHigh)
                    : new Stats.Interval(meanDepth, depthLow, depthHigh);
        }

        RequestRecord.Cell cell() {
            return new RequestRecord.Cell(trace, device, deadlineMs);
        }
    }

    /** A run's bound with its per-request bests (by request index), which the paired gap needs. */
    record Run(Bound bound, TreeMap<Integer, Replay.Best> perRequest) {
        TreeMap<Integer, Double> scores(Metric metric) {
            TreeMap<Integer, Double> out = new TreeMap<>();
            perRequest.forEach((i, b) -> out.put(i, b.score(metric)));
            return out;
        }
    }

    /** The bound over a run's requests' bests. */
    static Run of(RequestRecord.Cell cell, String policy, int plans, TreeMap<Integer, Replay.Best> perRequest, Map<String, Object> inputs) {
        int n = perRequest.size();
        Stats.Interval acc = Stats.wilson(perRequest.values().stream().filter(Replay.Best::correct).count(), n);
        Stats.Interval depth = Stats.mean(perRequest.values().stream().mapToDouble(Replay.Best::depth).toArray());
        double hit = perRequest.values().stream().filter(Replay.Best::inTime).count() / (double) Math.max(1, n);
        return new Run(new Bound(cell.trace(), cell.device(), cell.deadlineMs(), policy, n, plans, acc.estimate(), acc.low(), acc.high(), hit,
                depth.estimate(), depth.low(), depth.high(), inputs), perRequest);
    }

    /** Each replayed run's policy against its own bound, paired on the same requests. */
    static List<Comparisons.Paired> gaps(List<RequestRecord> rows, List<Run> runs, Metric metric) {
        List<Comparisons.Paired> out = new ArrayList<>();
        var scores = Comparisons.scores(rows, metric);
        for (Run r : runs) {
            var s = scores.getOrDefault(r.bound().cell(), Map.of()).get(r.bound().policy());
            if (s != null) {
                out.add(Comparisons.pair(r.bound().cell(), r.bound().policy(), s, REFERENCE, r.scores(metric)));
            }
        }
        return out;
    }

    /** A policy above the replay bound beyond the noise: the replay misses something that mattered. */
    static boolean modellingGap(Comparisons.Paired p) {
        return p.reference().equals(REFERENCE) && p.low() > 0;
    }
}
