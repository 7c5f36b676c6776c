package io.cleave.core.plan;

import io.cleave.proto.v1.Encoding;

/**
 * Predicts what a plan will answer with by a deadline under the arbiter's rule (the deepest exit
 * that has arrived), and how accurate that is.
 */
public final class PlanEvaluator {
    private final LatencyModel model;
    private final double marginFraction;
    private final long marginNanos;
    private volatile ExitPlacement placement; // for the last kMax planned for: devices rarely change it

    /**
     * @param marginFraction and marginNanos: the deadline planned against is D - max(marginNanos, marginFraction * D)
     */
    public PlanEvaluator(LatencyModel model, double marginFraction, long marginNanos) {
        this.model = model;
        this.marginFraction = marginFraction;
        this.marginNanos = marginNanos;
    }

    public LatencyModel model() {
        return model;
    }

    public long safeDeadline(long deadlineNanos) {
        return deadlineNanos - Math.max(marginNanos, (long) (marginFraction * deadlineNanos));
    }

    public Decision evaluate(String policy, Plan plan, long deadlineNanos, Costs c) {
        PackStats pack = model.pack();
        long d = safeDeadline(deadlineNanos);
        int best = -1;
        boolean cloud = false;
        double time = Double.POSITIVE_INFINITY;
        ExitPlacement where = placement(c.kMax());
        int localTo = where.localTo(plan);
        for (int x = 0; x < pack.exits(); x++) {
            if (!where.local(x, localTo)) {
                break;
            }
            double t = model.local(c, x);
            if (t <= d && x > best) {
                best = x;
                time = t;
            }
        }
        if (plan.offload()) {
            for (int x = 0; x < pack.exits(); x++) {
                if (!ExitPlacement.inCloud(pack.exitBlock(x), plan.split()) || Double.isNaN(pack.accuracy(x, plan.split(), plan.encoding(), true))) {
                    continue;
                }
                double t = model.cloud(c, plan.split(), plan.encoding(), x);
                if (t <= d && x > best) {
                    best = x;
                    cloud = true;
                    time = t;
                }
            }
        }
        if (best < 0) {
            // nothing in time: the first local exit answers, late
            double t = model.local(c, 0);
            return new Decision(policy, plan, 0, false, 0.0, (long) Math.min(t, Long.MAX_VALUE),
                    model.breakdown(c, plan.split(), plan.encoding(), 0, false));
        }
        double acc = pack.accuracy(best, plan.split(), plan.encoding(), cloud);
        // a confident local stop before the expected exit may cost accuracy: subtract its upper bound
        for (int x = 0; x < best && where.local(x, localTo); x++) {
            acc -= pack.stopCostBound(x, plan.threshold());
        }
        return new Decision(policy, plan, best, cloud, acc, (long) time, model.breakdown(c, plan.split(), plan.encoding(), best, cloud));
    }

    /**
     * Expected latency of a decision: requests stop at a confident local exit of its plan with its
     * measured stop rate (counted once, at the first such exit), the rest arrive with the expected exit.
     */
    public double expectedNanos(Decision d, Costs c) {
        PackStats pack = model.pack();
        ExitPlacement where = placement(c.kMax());
        int localTo = where.localTo(d.plan());
        double left = 1;
        double t = 0;
        for (int x = 0; x < d.expectedExit() && where.local(x, localTo); x++) {
            double p = Math.min(left, pack.stopRate(x, d.plan().threshold()));
            t += p * model.local(c, x);
            left -= p;
        }
        return t + left * d.predictedNanos();
    }

    private ExitPlacement placement(int kMax) {
        ExitPlacement p = placement;
        if (p == null || p.kMax() != kMax) {
            p = ExitPlacement.of(model.pack(), kMax);
            placement = p;
        }
        return p;
    }

    /** Bytes a plan sends. */
    public long bytes(Plan p) {
        return p.offload() ? model.pack().bytes(p.split(), p.encoding()) : 0;
    }

}
