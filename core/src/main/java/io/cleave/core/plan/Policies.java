package io.cleave.core.plan;

import io.cleave.core.reduce.TokenReduction;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;

/**
 * Cleave's planner and the baselines it is measured against, as {@link Policy} plug-ins.
 *
 * <ul>
 *   <li>{@link #cleave}: over edge-only, sending the input (raw or as JPEG), and tokens after every block the device
 *       holds in every encoding, all racing the local exits: maximise the expected accuracy of the
 *       deepest exit to arrive by the deadline (local exits within the safety margin, each deeper
 *       cloud exit weighted by the chance that the round trip lets it arrive: {@link PlanEvaluator}),
 *       minus the bounded cost of stopping at a confident local exit; differences within {@link #ACCURACY_TOLERANCE} are ties,
 *       which go to fewer bytes, then to the higher expected accuracy, then to the earlier expected answer. Unless the caller fixes it, the
 *       local confidence threshold is chosen too (a lower one answers more requests early).
 *   <li>{@link #edgeOnly}, {@link #cloudOnly} (send the raw input: the baseline split computing must
 *       beat), {@link #fixedSplit}.
 *   <li>{@link #neurosurgeon}: the split with the minimum predicted latency of the final exit; no
 *       early exits, no race, fp32.
 *   <li>{@link #edgent}: the (split, exit) pair of best accuracy whose predicted latency meets the
 *       deadline for a static bandwidth estimate (the mean); fp32, no race.
 *   <li>{@link #oracle}: Cleave's search fed the true future link; for experiments only.
 * </ul>
 */
public final class Policies {
    private Policies() {}

    public static Policy cleave(PackStats pack, double threshold) {
        return search("cleave", pack, threshold, true, true, 0.1, 1_000_000);
    }

    /** Cleave's search without token reduction (every token crosses): what the reduction knob is measured against. */
    public static Policy cleaveAllTokens(PackStats pack, double threshold) {
        return search("cleave-all-tokens", pack, threshold, false, true, 0.1, 1_000_000);
    }

    /** Cleave's search without block skipping (every block runs): what the skipping knob is measured against. */
    public static Policy cleaveAllBlocks(PackStats pack, double threshold) {
        return search("cleave-all-blocks", pack, threshold, true, false, 0.1, 1_000_000);
    }

    /** Cleave's search with no safety margin, fed the true link by the caller. */
    public static Policy oracle(PackStats pack, double threshold) {
        return search("oracle", pack, threshold, true, true, 0.0, 0);
    }

    /** Cleave's search under another name, with or without each knob (for comparisons and benchmarks). */
    public static Policy search(String name, PackStats pack, double threshold, boolean reductions, boolean skips) {
        return search(name, pack, threshold, reductions, skips, 0.1, 1_000_000);
    }

    private static Policy search(String name, PackStats pack, double threshold, boolean reductions, boolean skips, double marginFraction,
            long marginNanos) {
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(pack), marginFraction, marginNanos);
        Searched plans = new Searched(pack, threshold, reductions, skips);
        return (deadline, c) -> best(name, ev, plans.at(c.kMax()), deadline, c);
    }

    /** The candidates of a search, built once for the device's k_max (which rarely changes), not per decision. */
    private static final class Searched {
        final PackStats pack;
        final double threshold;
        final boolean reductions;
        final boolean skips;
        volatile int kMax = -1;
        volatile List<Plan> plans;

        Searched(PackStats pack, double threshold, boolean reductions, boolean skips) {
            this.pack = pack;
            this.threshold = threshold;
            this.reductions = reductions;
            this.skips = skips;
        }

        List<Plan> at(int k) {
            List<Plan> p = plans;
            if (p == null || kMax != k) {
                p = candidates(pack, k, threshold, reductions, skips);
                plans = p;
                kMax = k;
            }
            return p;
        }
    }

    public static Policy edgeOnly(PackStats pack, double threshold) {
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(pack), 0.1, 1_000_000);
        return (deadline, c) -> ev.evaluate("edge-only", Plan.edgeOnly(c.kMax(), threshold), deadline, c);
    }

    public static Policy cloudOnly(PackStats pack) {
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(pack), 0.1, 1_000_000);
        return (deadline, c) -> ev.evaluate("cloud-only", new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0), deadline, c);
    }

    public static Policy fixedSplit(PackStats pack, int split, Encoding enc, double threshold) {
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(pack), 0.1, 1_000_000);
        return (deadline, c) -> ev.evaluate("fixed-" + split, new Plan(true, split, split == 0 ? Encoding.U8_IMAGE : enc, threshold,
                Math.max(split, c.kMax())), deadline, c);
    }

    public static Policy neurosurgeon(PackStats pack) {
        LatencyModel m = new LatencyModel(pack);
        PlanEvaluator ev = new PlanEvaluator(m, 0.1, 1_000_000);
        int last = pack.exits() - 1;
        return (deadline, c) -> {
            Plan best = null;
            double bestT = Double.POSITIVE_INFINITY;
            if (c.kMax() >= pack.blocks()) {
                best = Plan.edgeOnly(c.kMax(), 2.0);
                bestT = m.local(c, last);
            }
            for (int s = 0; s <= Math.min(c.kMax(), pack.blocks() - 1); s++) {
                Encoding enc = s == 0 ? Encoding.U8_IMAGE : Encoding.FP32;
                double t = m.cloud(c, s, enc, last);
                if (t < bestT) {
                    bestT = t;
                    best = new Plan(true, s, enc, 2.0, s);
                }
            }
            if (best == null) { // no finite time anywhere (e.g. the link is not measured yet): stay on the device
                best = Plan.edgeOnly(c.kMax(), 2.0);
            }
            return ev.evaluate("neurosurgeon", best, deadline, c);
        };
    }

    /** @param staticBandwidth the bandwidth Edgent plans with (its static estimate), bytes/s */
    public static Policy edgent(PackStats pack, double staticBandwidth) {
        LatencyModel m = new LatencyModel(pack);
        PlanEvaluator ev = new PlanEvaluator(m, 0.0, 0);
        return (deadline, c) -> {
            Costs assumed = c.withLink(staticBandwidth, c.rtt());
            Plan best = Plan.edgeOnly(c.kMax(), 2.0);
            double bestAcc = -1;
            for (int x = 0; x < pack.exits(); x++) {
                if (m.local(assumed, x) <= deadline && pack.accuracy(x, 0, Encoding.FP32, false) > bestAcc) {
                    bestAcc = pack.accuracy(x, 0, Encoding.FP32, false);
                    best = Plan.edgeOnly(pack.exitBlock(x), 2.0);
                }
                for (int s = 0; s <= Math.min(c.kMax(), pack.exitBlock(x) - 1); s++) {
                    Encoding enc = s == 0 ? Encoding.U8_IMAGE : Encoding.FP32;
                    double acc = pack.accuracy(x, s, enc, true);
                    if (m.cloud(assumed, s, enc, x) <= deadline && acc > bestAcc) { // NaN never compares greater
                        bestAcc = acc;
                        best = new Plan(true, s, enc, 2.0, s);
                    }
                }
            }
            return ev.evaluate("edgent", best, deadline, c);
        };
    }

    /**
     * Every split x encoding x threshold. A threshold in (0, 1] is the caller's and is kept; above 1
     * the planner chooses among "never" and the thresholds the pack measured on validation.
     */
    public static List<Plan> candidates(PackStats pack, int kMax, double threshold) {
        return candidates(pack, kMax, threshold, true, true);
    }

    /**
     * As {@link #candidates(PackStats, int, double)}; with {@code reductions}, also every token reduction the pack
     * measured at each split after a block, in every token encoding; with {@code skips}, every plan without a reduction
     * also with each of the pack's skip options ({@link PackStats#skipOptions}).
     */
    public static List<Plan> candidates(PackStats pack, int kMax, double threshold, boolean reductions, boolean skips) {
        List<Double> taus = new ArrayList<>(List.of(threshold));
        if (threshold > 1) {
            taus.addAll(pack.thresholds());
        }
        List<Plan> plans = new ArrayList<>();
        for (double tau : taus) {
            plans.add(Plan.edgeOnly(kMax, tau));
            plans.add(new Plan(true, 0, Encoding.U8_IMAGE, tau, kMax));
            plans.add(new Plan(true, 0, Encoding.JPEG, tau, kMax));
            for (int s = 1; s <= Math.min(kMax, pack.blocks() - 1); s++) {
                for (Encoding e : new Encoding[] {Encoding.INT8, Encoding.FP16, Encoding.FP32}) {
                    plans.add(new Plan(true, s, e, tau, kMax));
                    if (reductions) {
                        for (TokenReduction r : pack.reductions(s)) {
                            plans.add(new Plan(true, s, e, tau, kMax, r));
                        }
                    }
                }
            }
        }
        if (skips) {
            List<Plan> skipping = new ArrayList<>();
            for (BlockSkip skip : pack.skipOptions(kMax)) {
                for (Plan p : plans) {
                    if (!p.reduction().reduces()) {
                        skipping.add(p.withSkip(skip));
                    }
                }
            }
            plans.addAll(skipping);
        }
        return plans;
    }

    /**
     * The best plan: among those whose expected accuracy is within {@link #ACCURACY_TOLERANCE} of the
     * best one's, the fewest bytes, then the earliest expected answer.
     */
    static Decision best(String name, PlanEvaluator ev, List<Plan> plans, long deadline, Costs c) {
        List<Decision> all = new ArrayList<>(plans.size());
        double top = Double.NEGATIVE_INFINITY;
        for (Plan p : plans) {
            Decision d = ev.evaluate(name, p, deadline, c);
            all.add(d);
            top = Math.max(top, d.expectedAccuracy());
        }
        Decision best = null;
        long bestBytes = 0;
        double bestExpected = 0;
        for (Decision d : all) {
            if (d.expectedAccuracy() < top - ACCURACY_TOLERANCE) {
                continue;
            }
            long bytes = ev.bytes(d.plan());
            double expected = ev.expectedNanos(d, c);
            // fewer bytes first (the tolerance exists to trade noise-sized accuracy for bytes); among plans sending as much,
            // the more accurate, and only then the earlier: an answer early within the deadline is worth no accuracy (a
            // confident stop that saves milliseconds cost 4 pp on a 2-block device at 20 ms on 3G)
            boolean better = best == null || bytes < bestBytes
                    || bytes == bestBytes && (d.expectedAccuracy() > best.expectedAccuracy()
                            || d.expectedAccuracy() == best.expectedAccuracy() && expected < bestExpected);
            if (better) {
                best = d;
                bestBytes = bytes;
                bestExpected = expected;
            }
        }
        return best;
    }

    /**
     * Accuracy differences smaller than this are ties: about one standard error of an accuracy
     * near 90% measured on a 5,000-image validation split. Without it the planner chases noise,
     * e.g. sending 16x more bytes for an exit that is 0.2 pp "better" on validation.
     */
    static final double ACCURACY_TOLERANCE = 0.005;

}
