package io.cleave.experiment;

import io.cleave.core.plan.BlockSkip;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.core.plan.LatencyModel;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policies;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.link.LinkConditions;
import io.cleave.link.Shaper;
import io.cleave.link.Trace;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.Timing;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one request would have been answered with under any plan, replayed after the fact. Per plan:
 * the device's exits at the segment times it measured; the payload sent once the blocks before the
 * split have run, through the uplink as the trace delivers it from that moment (plus the added
 * one-way delay and outages); the worker computing each later exit at its profiled per-segment
 * times; each result back through the downlink; then the edge's arbiter rule (the deepest exit that
 * has arrived, answered when the final exit arrives, when a local exit's confidence reaches the
 * threshold, or when the deadline timer fires a guard before the deadline). Which exit answers
 * decides right or wrong, from the model's own predictions ({@link ExitTable}).
 *
 * <p>It leaves out: queueing behind the run's other requests (on the device, in the link and at
 * the worker: each request replays on an idle link and an idle worker), the worker's batching,
 * gRPC framing and headers on the uplink, packet loss, and the spread of segment times around
 * the medians it uses.
 */
final class Replay {
    private final LatencyModel model;
    private final PackStats pack;
    private final ExitTable exits;
    private final Costs times;
    private final Link link;
    private final int resultBytes;
    private final int finalExit;
    private final ExitPlacement placement;

    /**
     * The link a run replayed, on the trace's clock (0: the run's start).
     *
     * @param down the downlink trace, null when results came back unshaped
     */
    record Link(Trace up, Trace down, LinkConditions conditions) {
        Shaper uplink() {
            return conditions.shaper(up == null ? null : Shaper.trace(up, 0), 0);
        }

        Shaper downlink() {
            return conditions.shaper(down == null ? null : Shaper.trace(down, 0), 0);
        }
    }

    /**
     * What a plan answered with.
     *
     * @param exit the answering exit (-1: none, the device held no exit and nothing was sent)
     * @param atNanos when, since the request's start
     * @param reason as the arbiter says: final-exit, confident, deadline, all-done, late
     */
    record Answer(int exit, int block, boolean cloud, long atNanos, boolean inTime, boolean correct, String reason) {
        static final Answer NONE = new Answer(-1, -1, false, Long.MAX_VALUE, false, false, "none");

        double score(Metric metric) {
            return switch (metric) {
                case ACCURACY -> correct && inTime ? 1 : 0;
                case DEPTH -> inTime ? Math.max(0, block) : 0;
            };
        }
    }

    /**
     * The best any plan did for one request.
     *
     * @param correct some plan answered right in time
     * @param depth the deepest in-time exit's block over all plans (0: none in time)
     * @param inTime some plan answered in time
     * @param plan a plan reaching the best answer: right in time if any is, else the deepest in time (null: none in time)
     */
    record Best(boolean correct, int depth, boolean inTime, Plan plan) {
        double score(Metric metric) {
            return metric == Metric.ACCURACY ? (correct ? 1 : 0) : depth;
        }
    }

    /**
     * @param times the device's segment times ({@code edge*}, the device's k_max blocks) and the worker's
     *     ({@code cloud*}), nanoseconds; queue, bandwidth and round trip are not read
     */
    Replay(PackStats pack, ExitTable exits, Costs times, Link link, int classes) {
        this.model = new LatencyModel(pack);
        this.pack = pack;
        this.exits = exits;
        this.times = times;
        this.link = link;
        this.resultBytes = resultBytes(classes);
        this.finalExit = pack.exits() - 1;
        this.placement = ExitPlacement.of(pack, times.kMax());
    }

    /**
     * The plans searched: every split, encoding and confidence threshold Cleave's planner considers
     * ({@link Policies#candidates}, thresholds from the pack's validation tables and "never"), each
     * also with the device's own compute stopped after any block (as the baselines' plans do: a
     * deeper local exit that arrives first answers, right or not).
     */
    static List<Plan> candidates(PackStats pack, int kMax) {
        java.util.Set<Plan> out = new java.util.LinkedHashSet<>();
        ExitPlacement placement = ExitPlacement.of(pack, kMax);
        for (Plan p : Policies.candidates(pack, kMax, 2.0)) {
            if (p.offload() && p.split() == 0 && p.encoding() == Encoding.JPEG && Double.isNaN(pack.accuracy(pack.exits() - 1, 0, Encoding.JPEG, true))) {
                continue; // a JPEG input the pack never measured: the planner does not offer it either
            }
            int least = placement.localTo(new Plan(p.offload(), p.split(), p.encoding(), p.threshold(), 0)); // the fewest blocks the edge runs for p
            for (int lb = least; lb <= kMax; lb++) {
                out.add(new Plan(p.offload(), p.split(), p.encoding(), p.threshold(), lb, p.reduction(), p.skip()));
            }
        }
        return List.copyOf(out);
    }

    /**
     * Bytes one exit result takes on the downlink: the message as the worker fills it, with the gRPC
     * length prefix (5 bytes) and an HTTP/2 DATA frame header (9 bytes).
     */
    static int resultBytes(int classes) {
        ExitResult.Builder r = ExitResult.newBuilder().setRequestId("trace-device-policy-0000").setExitIndex(1).setBlock(1)
                .setPredictedClass(1).setConfidence(0.5f).setTiming(Timing.newBuilder().setReceiveUs(100).setQueueUs(100).setComputeUs(100)
                        .setMaxBatch(1)).setLast(true);
        for (int i = 0; i < classes; i++) {
            r.addProbabilities(0.1f);
        }
        return r.build().getSerializedSize() + 5 + 9;
    }

    /** The candidate plans' best for one request that sent {@code image} at {@code startNanos} into the trace. */
    Best best(List<Plan> plans, int image, long startNanos, long deadlineNanos) {
        Timelines t = new Timelines(startNanos);
        Answer bestAnswer = null;
        Plan bestPlan = null;
        int depth = 0;
        boolean inTime = false;
        for (Plan p : plans) {
            Answer a = arbitrate(t.of(p), p, image, deadlineNanos);
            inTime |= a.inTime();
            depth = Math.max(depth, (int) a.score(Metric.DEPTH));
            if (a.inTime() && (bestAnswer == null || better(a, bestAnswer))) {
                bestAnswer = a;
                bestPlan = p;
            }
        }
        return new Best(bestAnswer != null && bestAnswer.correct(), depth, inTime, bestPlan);
    }

    /** Right beats wrong; among equals, deeper. */
    private static boolean better(Answer a, Answer b) {
        return a.correct() != b.correct() ? a.correct() : a.block() > b.block();
    }

    /** What {@code plan} answered for {@code image}, sent at {@code startNanos} into the trace with {@code deadlineNanos} to go. */
    Answer replay(Plan plan, int image, long startNanos, long deadlineNanos) {
        return arbitrate(new Timelines(startNanos).of(plan), plan, image, deadlineNanos);
    }

    /** One exit result reaching the edge, {@code at} nanoseconds after the request's start. */
    private record Event(int exit, boolean cloud, long at, int split, Encoding encoding, TokenReduction reduction, BlockSkip skip) {}

    /**
     * The exit results plans bring to the edge for one request, in arrival order. The device's depend
     * only on how far it computes, the worker's only on the split and encoding, so each is worked
     * out once per request (the uplink replay walks the trace a millisecond at a time), and the
     * threshold changes neither.
     */
    private final class Timelines {
        private record Route(int split, Encoding encoding, TokenReduction reduction, BlockSkip skip) {}

        private record Local(int localTo, BlockSkip skip) {}

        private final long start;
        private final Map<Local, List<Event>> local = new HashMap<>();
        private final Map<Route, List<Event>> cloud = new HashMap<>();
        private final Map<Plan, List<Event>> merged = new HashMap<>();

        Timelines(long start) {
            this.start = start;
        }

        List<Event> of(Plan plan) {
            int kMax = times.kMax();
            boolean offload = plan.offload() && plan.split() < pack.blocks() && plan.split() <= kMax;
            // as the edge runs it (which raises its local blocks to any split it offloads at, reachable or not)
            int localTo = placement.localTo(plan, plan.offload() && plan.split() < pack.blocks());
            Route route = offload ? new Route(plan.split(), plan.encoding(), plan.reduction(), plan.skip()) : null;
            Plan path = new Plan(offload, offload ? plan.split() : 0, offload ? plan.encoding() : Encoding.FP32, 2.0, localTo,
                    offload ? plan.reduction() : TokenReduction.NONE, plan.skip());
            return merged.computeIfAbsent(path, k -> {
                List<Event> ev = new ArrayList<>(local.computeIfAbsent(new Local(localTo, plan.skip()), this::local));
                if (route != null) {
                    ev.addAll(cloud.computeIfAbsent(route, this::cloud));
                }
                ev.sort(Comparator.comparingLong(Event::at));
                return ev;
            });
        }

        private List<Event> local(Local l) {
            List<Event> ev = new ArrayList<>();
            Costs t = times.skipping(l.skip());
            for (int x = 0; x < pack.exits() && placement.local(x, l.localTo()); x++) {
                ev.add(new Event(x, false, (long) model.local(t, x), 0, Encoding.FP32, TokenReduction.NONE, l.skip()));
            }
            return ev;
        }

        private List<Event> cloud(Route r) {
            List<Event> ev = new ArrayList<>();
            // the plan's payload (reduced: the probe on the edge first, fewer bytes, the cloud's segments on fewer tokens)
            Plan p = new Plan(true, r.split(), r.encoding(), 2.0, r.split(), r.reduction(), r.skip());
            Costs times = Replay.this.times.skipping(r.skip()); // skipped blocks take no time on either side
            double probe = pack.reductionShare(p) * (r.split() > 0 ? times.edgeBlock()[r.split()] : 0);
            long sent = start + (long) (model.edgeBeforeSend(times, r.split()) + pack.codecNanos(r.split(), r.encoding()) + probe);
            long arrived = deliver(link.uplink(), sent, pack.bytes(p)) + link.conditions().delayNanos();
            Shaper down = link.downlink();
            for (int x = 0; x < pack.exits(); x++) {
                if (ExitPlacement.inCloud(pack.exitBlock(x), r.split())) {
                    if ((r.reduction().reduces() || r.skip().any()) && Double.isNaN(pack.accuracy(x, p, true))) {
                        continue; // an exit that needs every token (the worker does not compute it on reduced ones), or unmeasured
                    }
                    long computed = arrived + (long) (model.cloudCompute(times, r.split(), x) * pack.tokenShare(p));
                    long back = deliver(down, computed, resultBytes) + link.conditions().delayNanos();
                    ev.add(new Event(x, true, back - start, r.split(), r.encoding(), r.reduction(), r.skip()));
                }
            }
            return ev;
        }
    }

    private static long deliver(Shaper s, long at, long bytes) {
        return s == null ? at : s.deliver(at, (int) bytes);
    }

    /** The arbiter's rule ({@code io.cleave.edge.race.Arbiter}) over the results as they arrive. */
    private Answer arbitrate(List<Event> events, Plan plan, int image, long deadlineNanos) {
        long answerBy = deadlineNanos - GUARD.guardNanos(deadlineNanos);
        Event best = null;
        for (Event e : events) {
            if (e.at() > answerBy) {
                if (best != null) {
                    return answer(best, image, answerBy, true, "deadline");
                }
                return answer(e, image, e.at(), e.at() <= deadlineNanos, "late"); // nothing by then: the first result answers
            }
            if (best == null || e.exit() > best.exit()) {
                best = e;
            }
            if (e.exit() == finalExit) {
                return answer(e, image, e.at(), true, "final-exit");
            }
            if (!e.cloud() && e == best && exits.confidence(image, e.exit()) >= plan.threshold()) {
                return answer(e, image, e.at(), true, "confident");
            }
        }
        return best == null ? Answer.NONE : answer(best, image, events.get(events.size() - 1).at(), true, "all-done");
    }

    private Answer answer(Event e, int image, long at, boolean inTime, String reason) {
        return new Answer(e.exit(), pack.exitBlock(e.exit()), e.cloud(), at, inTime,
                exits.correct(image, e.exit(), e.cloud(), e.split(), e.encoding(), e.reduction(), e.skip()), reason);
    }

    /** The edge's deadline timer at its least guard (it answers that long before the deadline); its schedule is not used. */
    private static final DeadlineTimer GUARD = (at, task) -> () -> {};
}
