package io.cleave.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Policies compared on the same images. Request i of every run of a trace x device x deadline used
 * test image i, so two policies' scores pair by request index; each comparison is the mean of the
 * per-request differences with a 95% interval ({@link Stats#paired}), over the requests both runs
 * answered or recorded.
 */
final class Comparisons {
    /** What every other policy is compared against, when it ran. */
    static final List<String> REFERENCES = List.of("cleave", "oracle");

    private Comparisons() {}

    /**
     * @param differing requests whose scores differ between the two policies
     * @param difference policy minus reference, per request, averaged
     */
    record Paired(String trace, String device, double deadlineMs, String policy, String reference, int requests, int differing,
            double difference, double low, double high) {
        Stats.Interval interval() {
            return new Stats.Interval(difference, low, high);
        }

        /** The policy scores above the oracle beyond the noise: by construction it should not, so it is a bug to explain. */
        boolean beatsOracle() {
            return reference.equals("oracle") && low > 0;
        }
    }

    /** Scores by request index, per policy, for each cell, in the order the rows came. */
    static Map<RequestRecord.Cell, Map<String, TreeMap<Integer, Double>>> scores(List<RequestRecord> rows, Metric metric) {
        Map<RequestRecord.Cell, Map<String, TreeMap<Integer, Double>>> out = new LinkedHashMap<>();
        for (RequestRecord r : rows) {
            out.computeIfAbsent(r.cell(), c -> new LinkedHashMap<>()).computeIfAbsent(r.policy(), p -> new TreeMap<>())
                    .put(r.request(), metric.score(r));
        }
        return out;
    }

    /** Every policy against each reference that ran in the same cell. */
    static List<Paired> of(List<RequestRecord> rows, Metric metric) {
        List<Paired> out = new ArrayList<>();
        scores(rows, metric).forEach((cell, byPolicy) -> {
            for (String ref : REFERENCES) {
                TreeMap<Integer, Double> b = byPolicy.get(ref);
                if (b == null) {
                    continue;
                }
                byPolicy.forEach((policy, a) -> {
                    if (!policy.equals(ref)) {
                        out.add(pair(cell, policy, a, ref, b));
                    }
                });
            }
        });
        return out;
    }

    static Paired pair(RequestRecord.Cell cell, String policy, Map<Integer, Double> a, String reference, Map<Integer, Double> b) {
        List<Integer> common = a.keySet().stream().filter(b::containsKey).sorted().collect(Collectors.toList());
        double[] x = common.stream().mapToDouble(a::get).toArray();
        double[] y = common.stream().mapToDouble(b::get).toArray();
        int differing = 0;
        for (int i = 0; i < x.length; i++) {
            differing += x[i] != y[i] ? 1 : 0;
        }
        Stats.Interval d = Stats.paired(x, y);
        return new Paired(cell.trace(), cell.device(), cell.deadlineMs(), policy, reference, common.size(), differing, d.estimate(),
                d.low(), d.high());
    }
}
