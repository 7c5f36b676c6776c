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

    /** The deadline a local exit must meet: D less the margin that protects the promise to answer by D. */
    public long safeDeadline(long deadlineNanos) {
        return deadlineNanos - Math.max(marginNanos, (long) (marginFraction * deadlineNanos));
    }

    /**
     * The deadline a cloud exit is planned against: D less only the fixed margin. A cloud exit that
     * comes late costs no deadline (the local exits race it and answer), and its lateness is already in
     * the round trips' distribution, so the margin's share of the deadline is not taken off again: with
     * it, a 20 ms deadline left 18 ms, and on a 10 ms link whose offloads came back in 13-15 ms the
     * planner kept every request local.
     */
    public long cloudDeadline(long deadlineNanos) {
        return deadlineNanos - marginNanos;
    }

    /**
     * What {@code plan} answers with by the deadline, under the arbiter's rule (the deepest exit that
     * has arrived): local exits against {@link #safeDeadline}, cloud exits against
     * {@link #cloudDeadline}. The decision's exit and time are those the costs predict as they stand; its
     * expected accuracy also weighs each deeper cloud exit by the chance that it arrives in time
     * under the round trips' distribution ({@link Costs#rttAtMost}): a cloud exit that arrives with
     * probability p replaces the local answer in that share of requests, and in the others the local
     * exits that race it answer. With the round trip known only as a value this is the predicted
     * exit's accuracy. A plan whose cloud exits are sure to be late scores as its local exits do.
     */
    public Decision evaluate(String policy, Plan plan, long deadlineNanos, Costs costs) {
        PackStats pack = model.pack();
        Costs c = costs.skipping(plan.skip()); // a skipped block takes no time wherever it would have run
        long d = safeDeadline(deadlineNanos);
        long dc = cloudDeadline(deadlineNanos);
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
        int bestLocal = best;
        double[] cloudTime = null; // per exit, NaN where the plan has no cloud exit
        if (plan.offload()) {
            cloudTime = new double[pack.exits()];
            for (int x = 0; x < pack.exits(); x++) {
                cloudTime[x] = Double.NaN;
                if (!cloudExit(pack, plan, x)) {
                    continue;
                }
                double t = model.cloud(c, plan, x);
                cloudTime[x] = t;
                if (t <= dc && x > best) {
                    best = x;
                    cloud = true;
                    time = t;
                }
            }
        }
        // with the round trip known only as a value, the chances are 0 or 1: the predicted exit's accuracy, no second pass
        double acc = cloudTime == null || c.rttQuantiles().length == 0
                ? (best < 0 ? 0 : pack.accuracy(best, plan, cloud) - stopCosts(plan, best, where, localTo))
                : expectedAccuracy(plan, c, dc, bestLocal, cloudTime, where, localTo);
        if (best < 0) {
            // nothing in time: the first local exit answers, late
            double t = model.local(c, 0);
            return new Decision(policy, plan, 0, false, acc, (long) Math.min(t, Long.MAX_VALUE),
                    model.breakdown(c, plan, 0, false));
        }
        return new Decision(policy, plan, best, cloud, acc, (long) time, model.breakdown(c, plan, best, cloud));
    }

    private static boolean cloudExit(PackStats pack, Plan plan, int x) {
        return ExitPlacement.inCloud(pack.exitBlock(x), plan.split()) && !Double.isNaN(pack.accuracy(x, plan, true));
    }

    /**
     * The local answer's accuracy where no deeper cloud exit arrives, and each deeper cloud exit's where
     * it is the deepest to arrive, weighted by those chances. Cloud exits are in depth order and a deeper
     * one needs more time, so exit x is the deepest to arrive with probability P(x) - P(next); a
     * confident local stop before the answering exit costs its bound, as always.
     */
    private double expectedAccuracy(Plan plan, Costs c, long cloudDeadline, int bestLocal, double[] cloudTime, ExitPlacement where,
            int localTo) {
        PackStats pack = model.pack();
        double local = bestLocal < 0 ? 0 : pack.accuracy(bestLocal, plan, false) - stopCosts(plan, bestLocal, where, localTo);
        double acc = 0;
        double arrivedDeeper = 0; // P(some deeper cloud exit than those seen so far arrives): filled from the deepest down
        for (int x = pack.exits() - 1; x > bestLocal; x--) {
            if (Double.isNaN(cloudTime[x])) {
                continue;
            }
            double withoutRtt = cloudTime[x] - c.rtt();
            double p = Math.max(arrivedDeeper, c.rttAtMost(cloudDeadline - withoutRtt));
            acc += (p - arrivedDeeper) * (pack.accuracy(x, plan, true) - stopCosts(plan, x, where, localTo));
            arrivedDeeper = p;
        }
        return acc + (1 - arrivedDeeper) * local;
    }

    /** Upper bound on what confident local stops before exit {@code x} cost. */
    private double stopCosts(Plan plan, int x, ExitPlacement where, int localTo) {
        double cost = 0;
        for (int y = 0; y < x && where.local(y, localTo); y++) {
            cost += model.pack().stopCostBound(y, plan.threshold());
        }
        return cost;
    }

    /**
     * Expected latency of a decision: requests stop at a confident local exit of its plan with its
     * measured stop rate (counted once, at the first such exit), the rest arrive with the expected exit.
     */
    public double expectedNanos(Decision d, Costs costs) {
        PackStats pack = model.pack();
        Costs c = costs.skipping(d.plan().skip());
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
        return p.offload() ? model.pack().bytes(p) : 0;
    }

}
