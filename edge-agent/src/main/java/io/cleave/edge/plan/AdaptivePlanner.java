package io.cleave.edge.plan;

import io.cleave.core.measure.LinkEstimator;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policy;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.measure.EdgeMeasurements;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Plans every request with a {@link Policy} on the edge's live measurements (embedded mode: the
 * same planner the coordinator runs), with two rules of its own:
 * <ul>
 *   <li><b>Local first.</b> Until the link has been measured (a bandwidth, at least a bound from
 *       below, and a round trip: the {@code LinkProber} starts at once), every request is planned
 *       edge-only. Nothing is offloaded on a guess.
 *   <li><b>Bounded exploration.</b> When the policy keeps a request local while the link's
 *       information is stale (no bandwidth evidence for a whole measurement window, so the estimate
 *       is a carried-over value), the planner asks the policy what it would do if the link were
 *       free ({@code bandwidth = infinity}, the measured round trip and cloud costs kept). If that
 *       offloads, this one request sends that plan's payload, at most once per {@code exploreEvery}
 *       (default: one measurement window). It keeps the local plan's blocks and threshold, so the
 *       local exits it would have answered with still race: exploring costs one payload on the
 *       uplink, not a deadline. Policies that never offload (edge-only) never explore.
 * </ul>
 */
public final class AdaptivePlanner implements Planner {
    private final Policy policy;
    private final EdgeMeasurements measurements;
    private final Plan fallback;
    private final Consumer<Decision> log;
    private final NanoClock clock;
    private final long exploreEveryNanos;
    private long lastExploreAt;
    private boolean explored;
    private volatile Decision last;
    private volatile Costs lastCosts;

    /** @param fallback supplies the local confidence threshold used before anything is measured */
    public AdaptivePlanner(Policy policy, EdgeMeasurements measurements, Plan fallback, Consumer<Decision> log) {
        this(policy, measurements, fallback, log, NanoClock.SYSTEM, measurements.link().windowNanos());
    }

    public AdaptivePlanner(Policy policy, EdgeMeasurements measurements, Plan fallback, Consumer<Decision> log, NanoClock clock,
            long exploreEveryNanos) {
        this.policy = policy;
        this.measurements = measurements;
        this.fallback = fallback;
        this.log = log;
        this.clock = clock;
        this.exploreEveryNanos = exploreEveryNanos;
    }

    @Override
    public Plan plan(long deadlineNanos) {
        return decide(deadlineNanos).plan();
    }

    @Override
    public Decision decide(long deadlineNanos) {
        Costs c = measurements.costs();
        LinkEstimator link = measurements.link();
        if (c == null) {
            return new Decision("unmeasured", Plan.edgeOnly(measurements.kMax(), fallback.threshold()), -1, false, Double.NaN, -1,
                    Map.of());
        }
        Decision d;
        if (!link.measured()) {
            d = policy.decide(deadlineNanos, c.withLink(0, c.rtt()));
            if (d.plan().offload()) {
                d = new Decision("unmeasured", Plan.edgeOnly(c.kMax(), d.plan().threshold()), -1, false, Double.NaN, -1, Map.of());
            }
        } else {
            d = explore(policy.decide(deadlineNanos, c), deadlineNanos, c, link);
        }
        last = d;
        lastCosts = c;
        log.accept(d);
        return d;
    }

    private Decision explore(Decision d, long deadlineNanos, Costs c, LinkEstimator link) {
        if (d.plan().offload() || link.ageNanos() < link.windowNanos()) {
            return d;
        }
        synchronized (this) {
            long now = clock.nanoTime();
            if (explored && now - lastExploreAt < exploreEveryNanos) {
                return d;
            }
            Decision free = policy.decide(deadlineNanos, c.withLink(Double.POSITIVE_INFINITY, c.rtt()));
            if (!free.plan().offload()) {
                return d;
            }
            explored = true;
            lastExploreAt = now;
            // the local side exactly as planned (blocks and threshold), the payload as the policy would send it;
            // the predicted outcome stays the local one: the cloud is not expected to make it, only tried
            Plan local = d.plan();
            Plan p = new Plan(true, free.plan().split(), free.plan().encoding(), local.threshold(),
                    Math.max(local.localBlocks(), free.plan().localBlocks()), free.plan().reduction(), local.skip());
            return new Decision(d.policy() + "+explore", p, d.expectedExit(), d.expectedCloud(), d.expectedAccuracy(),
                    d.predictedNanos(), d.breakdown());
        }
    }

    /** The costs the most recent decision was made on. */
    public Costs lastCosts() {
        return lastCosts;
    }

    /** The most recent decision, with its predicted breakdown. */
    public Decision last() {
        return last;
    }
}
