package io.cleave.core.plan;

import io.cleave.proto.v1.Encoding;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The planner's latency model (docs/architecture.md):
 * <pre>
 * T_local(x)     = stem + blocks 1..b(x) + local exits up to x          (edge)
 * T_cloud(s,e,x) = edge stem..s + codec(s,e) + bytes(s,e)/bw + rtt/2 + queue
 *                  + cloud (stem if s = 0) + blocks s+1..b(x) + cloud exits in (s, x] + rtt/2
 * </pre>
 * codec(s,e): a JPEG input's encode + decode time (measured with its accuracy), 0 otherwise.
 */
public final class LatencyModel {
    private final PackStats pack;

    public LatencyModel(PackStats pack) {
        this.pack = pack;
    }

    public PackStats pack() {
        return pack;
    }

    /** Edge time to exit x, or +inf if x lies beyond the blocks the edge holds. */
    public double local(Costs c, int x) {
        int b = pack.exitBlock(x);
        if (!ExitPlacement.held(b, c.kMax())) {
            return Double.POSITIVE_INFINITY;
        }
        double t = c.edgeStem();
        for (int k = 1; k <= b; k++) {
            t += c.edgeBlock()[k];
        }
        for (int e = 0; e <= x; e++) {
            t += c.edgeExit()[e];
        }
        return t;
    }

    /** Edge time to the point where the payload for split s can be sent (exits before it are computed first). */
    public double edgeBeforeSend(Costs c, int s) {
        if (s == 0) {
            return 0;
        }
        double t = c.edgeStem();
        for (int k = 1; k <= s; k++) {
            t += c.edgeBlock()[k];
        }
        for (int e = 0; e < pack.exits() && pack.exitBlock(e) < s; e++) {
            t += c.edgeExit()[e];
        }
        return t;
    }

    public double transfer(Costs c, int s, Encoding enc) {
        return c.bandwidth() <= 0 ? Double.POSITIVE_INFINITY : pack.bytes(s, enc) * 1e9 / c.bandwidth();
    }

    /**
     * Time until cloud exit x of {@code plan} is back at the edge, with its token reduction: the probe on the edge (its
     * FLOPs' share of the block before it), the reduced tokens' bytes, and the cloud's blocks and exits on fewer tokens
     * (scaled by the share of tokens: linear, as the projections and MLPs that dominate a block are).
     */
    public double cloud(Costs c, Plan plan, int x) {
        if (!plan.reduction().reduces() || plan.split() == 0) {
            return cloud(c, plan.split(), plan.encoding(), x);
        }
        int s = plan.split();
        double probe = pack.reductionShare(plan) * c.edgeBlock()[s];
        double transfer = c.bandwidth() <= 0 ? Double.POSITIVE_INFINITY : pack.bytes(plan) * 1e9 / c.bandwidth();
        return edgeBeforeSend(c, s) + probe + transfer + c.rtt() + c.queue() + cloudCompute(c, s, x) * pack.tokenShare(plan);
    }

    /** Time until cloud exit x (after split s) is back at the edge. */
    public double cloud(Costs c, int s, Encoding enc, int x) {
        return edgeBeforeSend(c, s) + pack.codecNanos(s, enc) + transfer(c, s, enc) + c.rtt() + c.queue() + cloudCompute(c, s, x);
    }

    public double cloudCompute(Costs c, int s, int x) {
        double t = s == 0 ? c.cloudStem() : 0;
        for (int k = s + 1; k <= pack.exitBlock(x); k++) {
            t += c.cloudBlock()[k];
        }
        for (int e = 0; e <= x; e++) {
            if (ExitPlacement.inCloud(pack.exitBlock(e), s)) {
                t += c.cloudExit()[e];
            }
        }
        return t;
    }

    /** As {@link #breakdown(Costs, int, Encoding, int, boolean)} for a plan, its token reduction included. */
    public Map<String, Long> breakdown(Costs c, Plan plan, int x, boolean cloud) {
        Map<String, Long> m = breakdown(c, plan.split(), plan.encoding(), x, cloud);
        if (cloud && plan.reduction().reduces() && plan.split() > 0) {
            int s = plan.split();
            m.put("reduce", (long) (pack.reductionShare(plan) * c.edgeBlock()[s]));
            m.put("transfer", c.bandwidth() <= 0 ? Long.MAX_VALUE : (long) (pack.bytes(plan) * 1e9 / c.bandwidth()));
            m.put("cloud", (long) (cloudCompute(c, s, x) * pack.tokenShare(plan)));
        }
        return m;
    }

    public Map<String, Long> breakdown(Costs c, int s, Encoding enc, int x, boolean cloud) {
        Map<String, Long> m = new LinkedHashMap<>();
        if (!cloud) {
            m.put("edge", (long) local(c, x));
            return m;
        }
        m.put("edge", (long) edgeBeforeSend(c, s));
        if (pack.codecNanos(s, enc) > 0) {
            m.put("codec", (long) pack.codecNanos(s, enc));
        }
        m.put("transfer", (long) transfer(c, s, enc));
        m.put("rtt", (long) c.rtt());
        m.put("queue", (long) c.queue());
        m.put("cloud", (long) cloudCompute(c, s, x));
        return m;
    }
}
