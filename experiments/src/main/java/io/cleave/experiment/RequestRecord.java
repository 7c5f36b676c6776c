package io.cleave.experiment;

/** One request of an experiment, as written to requests.csv. */
public record RequestRecord(String trace, String policy, double deadlineMs, int request, double startS, boolean offloaded, int split,
        String encoding, int exit, boolean cloud, boolean correct, double latencyMs, long bytes, boolean deadlineMet,
        double estimatedMbps, double trueMbps) {

    static final String HEADER = "trace,policy,deadline_ms,request,start_s,offloaded,split,encoding,exit,source,correct,latency_ms,"
            + "bytes,deadline_met,estimated_uplink_mbps,true_uplink_mbps";

    String csv() {
        return String.join(",", trace, policy, fmt(deadlineMs), String.valueOf(request), fmt(startS), String.valueOf(offloaded),
                String.valueOf(split), encoding, String.valueOf(exit), cloud ? "cloud" : "local", String.valueOf(correct),
                fmt(latencyMs), String.valueOf(bytes), String.valueOf(deadlineMet), fmt(estimatedMbps), fmt(trueMbps));
    }

    /** Counted correct only if the answer arrived by the deadline and was right. */
    boolean correctInTime() {
        return correct && deadlineMet;
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
