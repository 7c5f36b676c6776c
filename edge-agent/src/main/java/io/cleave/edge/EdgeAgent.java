package io.cleave.edge;

import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.cloud.CloudPath;
import io.cleave.edge.local.LocalPipeline;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.edge.plan.Planner;
import io.cleave.edge.race.Answer;
import io.cleave.edge.race.Arbiter;
import io.cleave.edge.race.Candidate;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.proto.v1.Encoding;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The race of one request between the device's own exits and the cloud's. The planner chooses a
 * plan; the {@link LocalPipeline} computes local exits (and hands over the tokens at the split);
 * the {@link CloudPath} streams deeper exits back; the {@link Arbiter} answers exactly once; a
 * {@link DeadlineTimer} answers at the deadline with the best result so far. Then cloud work is
 * cancelled and local work stops at the next segment.
 *
 * <p>The promise: every admitted request is answered by its deadline. A request is refused at once
 * (RESOURCE_EXHAUSTED) when neither its first local exit, given the work queued ahead of it, nor
 * a planned cloud answer can make the deadline.
 */
public final class EdgeAgent {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EdgeAgent.class);
    private final LocalPipeline local;
    private final CloudPath cloud;
    private final Planner planner;
    private final DeadlineTimer timer;
    private final NanoClock clock;
    private final ModelPack pack;
    private final int finalExit;
    private final Executor delivery;

    public EdgeAgent(LocalPipeline local, CloudPath cloud, Planner planner, DeadlineTimer timer, NanoClock clock) {
        this(local, cloud, planner, timer, clock, Runnable::run);
    }

    /**
     * @param delivery where answers decided by the deadline timer are handed to the caller's callbacks: the
     *     timer thread only decides, so that many deadlines falling together (a burst of requests) are all decided on
     *     time instead of each waiting for the callbacks of those before it
     */
    public EdgeAgent(LocalPipeline local, CloudPath cloud, Planner planner, DeadlineTimer timer, NanoClock clock, Executor delivery) {
        this.delivery = delivery;
        this.local = local;
        this.cloud = cloud;
        this.planner = planner;
        this.timer = timer;
        this.clock = clock;
        this.pack = local.pack();
        this.finalExit = pack.exitCount() - 1;
    }

    /** Feeds every local segment time to {@code m} from now on (the cloud path measures itself). */
    public void measureInto(EdgeMeasurements m) {
        local.measureInto(m);
    }

    public ModelPack pack() {
        return pack;
    }

    public int kMax() {
        return local.kMax();
    }

    /**
     * Classifies one image (raw pixels) by {@code deadlineNanos} from now. The future completes
     * with an answer by the deadline, or at once with RESOURCE_EXHAUSTED when the device cannot
     * make it (it fails with DEADLINE_EXCEEDED for a deadline already past). Cancelling the future
     * stops the request's work: its local compute, its timer and its cloud stream.
     */
    public CompletableFuture<Outcome> classify(String requestId, byte[] pixels, long deadlineNanos) {
        return classify(requestId, pixels, deadlineNanos, null);
    }

    private CompletableFuture<Outcome> classify(String requestId, byte[] pixels, long deadlineNanos, Plan forced) {
        if (deadlineNanos <= 0) {
            throw new CleaveException(ErrorCode.DEADLINE_EXCEEDED, "deadline of " + deadlineNanos + " ns has already passed");
        }
        long start = clock.nanoTime();
        Tensor image = local.preprocess(pixels);
        // the answer goes out a guard before the deadline (see DeadlineTimer): what arrives later cannot be used, so the
        // planner plans for that time, not the deadline (a cloud exit predicted in the guard would be planned, sent, and
        // always lose the race)
        long guard = timer.guardNanos(deadlineNanos);
        Decision decision = forced != null ? new Decision("warm-up", forced, -1, false, Double.NaN, -1, java.util.Map.of())
                : planner.decide(deadlineNanos - guard);
        Run run = new Run(requestId, pixels, image, decision, start, deadlineNanos, guard);
        if (forced != null) {
            run.start();
            return run.result;
        }
        String refusal = run.admission();
        if (refusal != null) {
            return CompletableFuture.failedFuture(new CleaveException(ErrorCode.RESOURCE_EXHAUSTED, refusal));
        }
        run.start();
        return run.result;
    }

    /** One request in flight. */
    private final class Run implements LocalPipeline.Listener, CloudPath.Listener {
        final String id;
        final byte[] pixels;
        final Tensor image;
        final Plan plan;
        final Decision decision;
        final long start;
        final long deadline;
        final long guard;
        final boolean offload;
        final Arbiter arbiter;
        final CompletableFuture<Outcome> result = new CompletableFuture<>();
        // lock-free, like the arbiter: the deadline timer's thread may settle (take a snapshot) while compute threads offer
        final List<Candidate> seen = new CopyOnWriteArrayList<>();
        volatile CloudPath.Offload sent;
        volatile long computeBeforeSendNanos;
        volatile boolean cloudSeen;
        volatile Runnable cancelTimer;
        volatile RuntimeException localFailure;

        Run(String id, byte[] pixels, Tensor image, Decision decision, long start, long budget, long guard) {
            this.id = id;
            this.pixels = pixels;
            this.image = image;
            this.decision = decision;
            this.plan = decision.plan();
            this.start = start;
            this.deadline = start + budget;
            // answer a little before the deadline (more on a device seen to wake up late), so that the answer is on time
            this.guard = guard;
            this.offload = plan.offload() && cloud != null && cloud.available() && plan.split() < pack.blockCount();
            this.arbiter = new Arbiter(id, finalExit, plan.threshold(), start, deadline, offload);
        }

        /** Why this request cannot be admitted, or null when it can. */
        String admission() {
            long budget = deadline - start - guard;
            if (!local.hasLocalExit()) {
                return offload ? null
                        : "no exit reachable: the device holds " + local.kMax() + " blocks, no exit among them, and nothing is offloaded";
            }
            long eta = local.firstExitEtaNanos();
            if (eta <= budget) {
                return null;
            }
            if (offload && decision.expectedCloud() && decision.predictedNanos() > 0 && decision.predictedNanos() <= budget) {
                return null; // the planner expects the cloud in time; the local exit races as a (late) fallback
            }
            return String.format("edge overloaded: its first local exit would come in %.1f ms (work queued ahead included), "
                    + "after the deadline of %.1f ms", eta / 1e6, (deadline - start) / 1e6);
        }

        void start() {
            // the caller gave up (cancelled the future; the device API does when its client cancels): stop the work
            result.whenComplete((o, e) -> {
                if (e instanceof java.util.concurrent.CancellationException) {
                    abandon();
                }
            });
            cancelTimer = timer.at(deadline - guard, () -> {
                Optional<Answer> a = arbiter.deadline(clock.nanoTime());
                if (a.isPresent()) {
                    deliver(() -> settle(a));
                } else if (local.backlogged() && arbiter.withdraw()) {
                    // nothing by the deadline, and requests queue for the device's compute: an error now instead of a late
                    // answer whose compute would make the requests behind it late too
                    deliver(() -> settleError(new CleaveException(ErrorCode.DEADLINE_EXCEEDED, String.format(
                            "edge overloaded: no exit by the deadline of %.1f ms (%s); answered with an error so that the"
                            + " requests queued behind it stay on time", (deadline - start) / 1e6,
                            offload ? "nor from the cloud" : "the first local exit was still queued")), offload && !cloudSeen));
                }
            });
            if (offload && plan.split() == 0) {
                sent = cloud.offload(id, plan, pixels, null, deadline, this);
                if (arbiter.answered()) {
                    sent.cancel(false); // abandoned while it was being sent
                }
            }
            // at worst the earliest local exit answers, so local compute always reaches it
            int localTo = local.placement().localTo(plan, offload);
            local.submit(image, deadline, localTo, offload && plan.split() > 0 ? plan.split() : -1, plan.skip(), this);
        }

        @Override
        public void tokens(int block, Tensor tokens) {
            computeBeforeSendNanos = clock.nanoTime() - start;
            if (arbiter.answered()) {
                settle(arbiter.cloudFinished(clock.nanoTime()));
                return;
            }
            Tensor payload;
            try {
                payload = local.reduce(block, tokens, plan.reduction());
            } catch (RuntimeException e) { // the local race goes on; the cloud path of this request never starts
                log.warn("token reduction {} after block {} failed; not offloading {}", plan.reduction(), block, id, e);
                settle(arbiter.cloudFinished(clock.nanoTime()));
                return;
            }
            computeBeforeSendNanos = clock.nanoTime() - start;
            sent = cloud.offload(id, plan, null, payload, deadline, this);
            if (arbiter.answered()) {
                sent.cancel(false);
            }
        }

        @Override
        public void exit(Candidate c) {
            settle(offer(c));
        }

        @Override
        public boolean answered() {
            return arbiter.answered();
        }

        void deliver(Runnable r) {
            try {
                delivery.execute(r);
            } catch (RejectedExecutionException e) {
                r.run();
            }
        }

        @Override
        public void finished(RuntimeException failure) {
            localFailure = failure;
            settle(arbiter.localFinished(clock.nanoTime()));
            if (offload && plan.split() > 0 && sent == null) {
                // the local work ended (shed, failed) before the split's tokens existed: the cloud path never starts,
                // and waiting for it to end would leave the request unanswered for ever
                settle(arbiter.cloudFinished(clock.nanoTime()));
            }
            nothingMore();
        }

        /** When both paths are over and no exit came, nothing ever will: the request ends with an error now. */
        void nothingMore() {
            if (!arbiter.exhausted() || !arbiter.withdraw()) {
                return;
            }
            RuntimeException failure = localFailure;
            if (failure instanceof LocalPipeline.Shed) {
                settleError(new CleaveException(ErrorCode.DEADLINE_EXCEEDED, failure.getMessage()
                        + (offload ? ", and no cloud exit came" : "")), false);
            } else if (failure != null) {
                settleError(new CleaveException(ErrorCode.INTERNAL, "local compute failed: " + failure.getMessage(), failure), false);
            } else {
                settleError(new CleaveException(ErrorCode.FAILED_PRECONDITION, "no exit reachable: the device holds " + local.kMax()
                        + " blocks" + (offload ? " and the cloud path ended without an exit" : " and nothing was offloaded")), false);
            }
        }

        @Override
        public void candidate(Candidate c) {
            cloudSeen = true;
            settle(offer(c));
        }

        @Override
        public void ended() {
            settle(arbiter.cloudFinished(clock.nanoTime()));
            nothingMore();
        }

        Optional<Answer> offer(Candidate c) {
            if (!arbiter.answered()) {
                seen.add(c); // before the offer, so that the answer's snapshot holds the candidate that settled it
            }
            return arbiter.offer(c);
        }

        void settle(Optional<Answer> a) {
            if (a.isEmpty()) {
                return;
            }
            CloudPath.Offload o = stopWork("deadline".equals(a.get().reason()) && !cloudSeen);
            List<Candidate> snapshot = List.copyOf(seen);
            result.complete(new Outcome(a.get(), plan, o == null ? 0 : o.bytesSent(), snapshot, computeBeforeSendNanos, decision));
        }

        /**
         * The caller cancelled: the arbiter takes nothing more (so local compute ends at its next
         * step and a queued job never starts), the timer is off and the cloud stream is cancelled.
         */
        void abandon() {
            if (arbiter.withdraw()) {
                stopWork(false);
            }
        }

        /** Cancels the deadline timer and the cloud stream, if any, which it returns ({@code linkEvidence}: see {@link CloudPath.Offload#cancel}). */
        CloudPath.Offload stopWork(boolean linkEvidence) {
            Runnable t = cancelTimer;
            if (t != null) {
                t.run();
            }
            CloudPath.Offload o = sent;
            if (o != null) {
                o.cancel(linkEvidence);
            }
            return o;
        }

        /** Ends the request with {@code e} ({@code linkEvidence}: see {@link CloudPath.Offload#cancel}). */
        void settleError(CleaveException e, boolean linkEvidence) {
            stopWork(linkEvidence);
            result.completeExceptionally(e);
        }
    }

    /**
     * Runs the local pipeline {@code rounds} times on a blank image before traffic: JIT and ONNX
     * Runtime warm up, and the measurements and admission control get their start-up values.
     */
    public void warmUp(int rounds) {
        local.warmUp(rounds);
    }

    /** Least warm-up requests before the JIT may be judged settled. */
    static final int WARM_UP_MIN_REQUESTS = 200;
    /** The JIT has settled when it compiled for less than this share of the last window. */
    static final double JIT_SETTLED_SHARE = 0.05;

    /**
     * Warms the whole path before traffic, until the JIT has settled or {@code maxNanos} passed:
     * blank images through the race, offloaded (alternately the input and the tokens at the first
     * local exit) when there is a cloud, else local. A fresh JVM spends seconds compiling once
     * traffic starts, on the cores the deadlines need; on a small device that alone broke deadlines
     * (measured: tens of ms late on 2 cores after a 50-pass warm-up). Settled: over the last 500 ms
     * less than {@link #JIT_SETTLED_SHARE} of the time went to compiling. Returns the requests run.
     */
    public int warmUpUntilSettled(long maxNanos) {
        local.warmUp(20); // admission control needs a first-exit cost before anything is admitted
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean observable = jit != null && jit.isCompilationTimeMonitoringSupported();
        byte[] blank = new byte[local.inputSize()];
        int first = local.hasLocalExit() ? local.firstExitBlock() : 0;
        long start = System.nanoTime();
        long windowStart = start;
        long compiledAtWindow = observable ? jit.getTotalCompilationTime() : 0;
        int n = 0;
        while (System.nanoTime() - start < maxNanos) {
            Plan p = cloud != null && cloud.available() ? new Plan(true, n % 2 == 0 ? first : 0, Encoding.FP16, 2.0, local.kMax())
                    : Plan.edgeOnly(local.kMax(), 2.0);
            try {
                classify("warm-up-" + n, blank, TimeUnit.SECONDS.toNanos(1), p).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // a refused or failed warm-up request still warmed what it ran
            }
            n++;
            long now = System.nanoTime();
            if (now - windowStart >= 500_000_000L) {
                long compiled = observable ? jit.getTotalCompilationTime() : 0; // unobservable: settled after the minimum
                if (n >= WARM_UP_MIN_REQUESTS && (compiled - compiledAtWindow) * 1e6 < JIT_SETTLED_SHARE * (now - windowStart)) {
                    break;
                }
                windowStart = now;
                compiledAtWindow = compiled;
            }
        }
        return n;
    }

    /** Emulates a slower device class (see {@link LocalPipeline#emulateSlowdown}). */
    public void emulateSlowdown(double factor) {
        local.emulateSlowdown(factor);
    }

    /** Exits the device can compute itself. */
    public List<Integer> localExits() {
        return local.localExits().stream().map(Manifest.Exit::index).toList();
    }
}
