package io.cleave.experiment;

/**
 * One request of an experiment, as written to requests.csv.
 *
 * @param device the device class's label
 * @param exit index of the answering exit (-1: no answer, e.g. refused by the edge's admission control; source "none",
 *     counted as a missed deadline)
 * @param exitBlock the block the answering exit sits after (its depth; -1: no answer or unknown)
 */
public record RequestRecord(String trace, String device, String policy, double deadlineMs, int request, double startS, boolean offloaded,
        int split, String encoding, int exit, int exitBlock, boolean cloud, boolean correct, double latencyMs, long bytes,
        boolean deadlineMet, double estimatedMbps, double trueMbps, String dynamic) {

    static final String HEADER = "trace,device,policy,deadline_ms,request,start_s,offloaded,split,encoding,exit,exit_block,source,correct,"
            + "latency_ms,bytes,deadline_met,estimated_uplink_mbps,true_uplink_mbps,dynamic";

    /** A request whose plan reduced no tokens and skipped no block. */
    RequestRecord(String trace, String device, String policy, double deadlineMs, int request, double startS, boolean offloaded,
            int split, String encoding, int exit, int exitBlock, boolean cloud, boolean correct, double latencyMs, long bytes,
            boolean deadlineMet, double estimatedMbps, double trueMbps) {
        this(trace, device, policy, deadlineMs, request, startS, offloaded, split, encoding, exit, exitBlock, cloud, correct, latencyMs,
                bytes, deadlineMet, estimatedMbps, trueMbps, "");
    }

    /** The dynamic-execution knobs a plan used, as the {@code dynamic} column writes them: "tokens=merge:0.5 skip=7", or "". */
    static String dynamic(io.cleave.core.plan.Plan p) {
        String t = p.offload() && p.reduction().reduces() ? "tokens=" + p.reduction() : "";
        String k = p.skip().any() ? "skip=" + p.skip().toString().replace(',', '+') : "";
        return (t + " " + k).trim();
    }

    String csv() {
        return String.join(",", trace, device, policy, fmt(deadlineMs), String.valueOf(request), fmt(startS), String.valueOf(offloaded),
                String.valueOf(split), encoding, String.valueOf(exit), String.valueOf(exitBlock), exit < 0 ? "none" : cloud ? "cloud" : "local",
                String.valueOf(correct), fmt(latencyMs), String.valueOf(bytes), String.valueOf(deadlineMet), fmt(estimatedMbps),
                fmt(trueMbps), dynamic);
    }

    /** Counted correct only if the answer arrived by the deadline and was right. */
    boolean correctInTime() {
        return correct && deadlineMet;
    }

    /** The cell this request belongs to, policies aside: requests of one cell are paired by index across policies. */
    Cell cell() {
        return new Cell(trace, device, deadlineMs);
    }

    /** A trace x device x deadline: the unit over which policies are compared on the same images. */
    record Cell(String trace, String device, double deadlineMs) {}

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
