package io.cleave.edge;

import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.cloud.CloudCall;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;
import io.cleave.edge.plan.Planner;
import io.cleave.edge.race.Answer;
import io.cleave.edge.race.Arbiter;
import io.cleave.edge.race.Candidate;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferHeader;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge side of a request: runs the early blocks and local exits, and when the plan says so
 * ships the input or the tokens to a cloud worker while it keeps computing (a race). The
 * {@link Arbiter} answers each request exactly once; then cloud work is cancelled and local
 * compute stops at the next block boundary.
 */
public final class EdgeAgent {
    private static final Logger log = LoggerFactory.getLogger(EdgeAgent.class);
    /** How long before its deadline a request is answered with the best result so far. */
    static final long DEADLINE_GUARD_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final SegmentEngine engine;
    private final ModelPack pack;
    private final Preprocessor preprocessor;
    private final Planner planner;
    private final WorkerClient workers; // null or empty: edge only (for now)
    private final ExecutorService compute;
    private final ScheduledExecutorService timers;
    private final NanoClock clock;
    private final int finalExit;
    private final int firstLocalExitBlock;
    private volatile EdgeMeasurements measurements;
    private volatile double slowdown = 1;

    public EdgeAgent(SegmentEngine engine, Planner planner, WorkerClient workers, ExecutorService compute,
            ScheduledExecutorService timers, NanoClock clock) {
        this.engine = engine;
        this.pack = engine.pack();
        this.preprocessor = new Preprocessor(pack);
        this.planner = planner;
        this.workers = workers; // may be empty now and filled later by a coordinator assignment
        this.compute = compute;
        this.timers = timers;
        this.clock = clock;
        this.finalExit = pack.exitCount() - 1;
        this.firstLocalExitBlock = pack.exit(0).afterBlock();
    }

    /** Feeds every local segment time and every first cloud result to {@code m} from now on. */
    public void measureInto(EdgeMeasurements m) {
        this.measurements = m;
    }

    public ModelPack pack() {
        return pack;
    }

    public int kMax() {
        return engine.maxBlock();
    }

    /**
     * Classifies one image (raw pixels) by {@code deadlineNanos} from now. The future always
     * completes with an answer: at worst the earliest local exit, late if the deadline is shorter
     * than the device needs for it.
     */
    public CompletableFuture<Outcome> classify(String requestId, byte[] pixels, long deadlineNanos) {
        if (deadlineNanos <= 0) {
            throw new CleaveException(ErrorCode.DEADLINE_EXCEEDED, "deadline of " + deadlineNanos + " ns has already passed");
        }
        Tensor image = preprocessor.apply(pixels, 1);
        Decision decision = planner.decide(deadlineNanos);
        Run run = new Run(requestId, pixels, image, decision, clock.nanoTime(), deadlineNanos);
        run.start();
        return run.result;
    }

    /** One request in flight. */
    private final class Run {
        final String id;
        final byte[] pixels;
        final Tensor image;
        final Plan plan;
        final Decision decision;
        final long start;
        final long deadline;
        final Arbiter arbiter;
        final CompletableFuture<Outcome> result = new CompletableFuture<>();
        final List<Candidate> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        final boolean offload;
        volatile CloudCall call;
        volatile long bytesSent;
        volatile long computeBeforeSendNanos;
        volatile long sendStart;
        volatile boolean firstCloudSeen;
        ScheduledFuture<?> timer;

        Run(String id, byte[] pixels, Tensor image, Decision decision, long start, long budget) {
            this.id = id;
            this.pixels = pixels;
            this.image = image;
            this.decision = decision;
            this.plan = decision.plan();
            this.start = start;
            this.deadline = start + budget;
            this.offload = plan.offload() && workers != null && !workers.isEmpty() && plan.split() < pack.blockCount();
            this.arbiter = new Arbiter(id, finalExit, plan.threshold(), start, deadline, offload);
        }

        void start() {
            // answer a little before the deadline, so that the answer itself is on time
            long guard = Math.min(DEADLINE_GUARD_NANOS, (deadline - start) / 10);
            timer = timers.schedule(() -> settle(arbiter.deadline(clock.nanoTime())), deadline - guard - clock.nanoTime(),
                    TimeUnit.NANOSECONDS);
            if (offload && plan.split() == 0) {
                List<Integer> shape = new ArrayList<>(List.of(1));
                shape.addAll(pack.manifest().input().shape()); // batch of one, then the input's own shape
                send(TensorCodec.encodeImage(pixels), Encoding.U8_IMAGE, shape);
            }
            try {
                compute.execute(this::runLocal);
            } catch (RejectedExecutionException e) {
                settleError(new CleaveException(ErrorCode.UNAVAILABLE, "edge agent is shutting down"));
            }
        }

        void runLocal() {
            try {
                long t0 = clock.nanoTime();
                Tensor t = engine.stem(image);
                t0 = timed(0, t0);
                // at worst the earliest local exit answers, so local compute always reaches it
                int localTo = Math.min(Math.max(Math.max(plan.localBlocks(), offload ? plan.split() : 0), firstLocalExitBlock),
                        engine.maxBlock());
                List<Manifest.Exit> exits = pack.manifest().exits();
                int e = 0;
                for (int b = 1; b <= localTo && !arbiter.answered(); b++) {
                    t = engine.blocks(t, b - 1, b);
                    t0 = timed(b, t0);
                    if (offload && plan.split() == b) {
                        computeBeforeSendNanos = clock.nanoTime() - start;
                        sendTokens(t);
                    }
                    while (e < exits.size() && exits.get(e).afterBlock() == b && !arbiter.answered()) {
                        Tensor logits = engine.exit(e, t);
                        t0 = timed(pack.blockCount() + 1 + e, t0);
                        float[] p = Calibration.probabilities(logits.data(), 0, pack.classes(), exits.get(e).temperature());
                        int cls = Calibration.argmax(p);
                        settle(offer(new Candidate(e, b, p, cls, p[cls], false, clock.nanoTime())));
                        e++;
                    }
                    while (e < exits.size() && exits.get(e).afterBlock() <= b) {
                        e++;
                    }
                }
            } catch (RuntimeException ex) {
                log.warn("local compute failed for {}", id, ex);
            } finally {
                settle(arbiter.localFinished(clock.nanoTime()));
                if (!arbiter.answered() && !offload) {
                    // no local exit within the blocks held and nothing offloaded: nothing will ever come
                    settleError(new CleaveException(ErrorCode.FAILED_PRECONDITION,
                            "no exit reachable: the device holds " + engine.maxBlock() + " blocks and nothing was offloaded"));
                }
            }
        }

        /** Records a local segment's time; returns now. */
        long timed(int segment, long since) {
            return record(measurements, segment, since);
        }

        void sendTokens(Tensor t) {
            int d = pack.manifest().tokens().dim();
            send(TensorCodec.encode(t.data(), d, plan.encoding()), plan.encoding(), List.of(1, pack.manifest().tokens().count(), d));
        }

        void send(byte[] payload, Encoding enc, List<Integer> shape) {
            long left = deadline - clock.nanoTime();
            if (left <= 0 || arbiter.answered()) {
                settle(arbiter.cloudFinished(clock.nanoTime()));
                return;
            }
            InferHeader h = InferHeader.newBuilder()
                    .setRequestId(id)
                    .setModelId(pack.id())
                    .setModelVersion(pack.version())
                    .setSplit(plan.split())
                    .setEncoding(enc)
                    .addAllShape(shape)
                    .setDeadlineBudgetUs(TimeUnit.NANOSECONDS.toMicros(left))
                    .setPayloadBytes(payload.length)
                    .build();
            bytesSent = payload.length;
            sendStart = clock.nanoTime();
            try {
                call = workers.infer(h, payload, left, this::onCloud, this::onCloudEnd);
                if (arbiter.answered()) {
                    call.cancel("answered");
                }
            } catch (RuntimeException ex) {
                log.debug("cloud call for {} failed to start", id, ex);
                settle(arbiter.cloudFinished(clock.nanoTime()));
            }
        }

        void onCloud(ExitResult r) {
            float[] p = new float[r.getProbabilitiesCount()];
            for (int i = 0; i < p.length; i++) {
                p[i] = r.getProbabilities(i);
            }
            var t = r.getTiming();
            Candidate c = new Candidate(r.getExitIndex(), r.getBlock(), p, r.getPredictedClass(), r.getConfidence(),
                    true, clock.nanoTime(), new Candidate.ServerTiming(t.getReceiveUs() * 1000, t.getQueueUs() * 1000,
                            t.getComputeUs() * 1000, t.getMaxBatch()));
            EdgeMeasurements m = measurements;
            if (m != null && !firstCloudSeen) {
                firstCloudSeen = true;
                m.recordCloud(bytesSent, c, m.profiledCloudCompute(plan.split(), c.exit()));
            }
            settle(offer(c));
        }

        void onCloudEnd(Status s) {
            if (!s.isOk() && s.getCode() != Status.Code.CANCELLED) {
                log.debug("cloud path of {} ended: {}", id, s);
            }
            settle(arbiter.cloudFinished(clock.nanoTime()));
        }

        Optional<Answer> offer(Candidate c) {
            synchronized (seen) {
                if (!arbiter.answered()) {
                    seen.add(c);
                }
                return arbiter.offer(c);
            }
        }

        void settle(Optional<Answer> a) {
            if (a.isEmpty()) {
                return;
            }
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            CloudCall c = call;
            if (c != null) {
                c.cancel("answered");
            }
            EdgeMeasurements m = measurements;
            if (m != null && offload && bytesSent > 0 && !firstCloudSeen && "deadline".equals(a.get().reason())) {
                int first = pack.firstExitAtOrAfter(plan.split() + 1);
                m.recordNoResult(bytesSent, clock.nanoTime() - sendStart, m.profiledCloudCompute(plan.split(), first));
            }
            List<Candidate> snapshot;
            synchronized (seen) {
                snapshot = List.copyOf(seen);
            }
            result.complete(new Outcome(a.get(), plan, bytesSent, snapshot, computeBeforeSendNanos, decision));
        }

        void settleError(CleaveException e) {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            result.completeExceptionally(e);
        }
    }

    /**
     * Runs the local pipeline (stem, every block held, every local exit) {@code rounds} times on a
     * blank image before traffic: JIT and ONNX Runtime warm up, and the edge's compute
     * measurements get their start-up calibration.
     */
    public void warmUp(int rounds) {
        byte[] blank = new byte[preprocessor.size()];
        for (int r = 0; r < rounds; r++) {
            Tensor image = preprocessor.apply(blank, 1);
            EdgeMeasurements m = measurements;
            long t0 = clock.nanoTime();
            Tensor t = engine.stem(image);
            t0 = record(m, 0, t0);
            int e = 0;
            for (int b = 1; b <= engine.maxBlock(); b++) {
                t = engine.blocks(t, b - 1, b);
                t0 = record(m, b, t0);
                while (e < pack.exitCount() && pack.exit(e).afterBlock() == b) {
                    engine.exit(e, t);
                    t0 = record(m, pack.blockCount() + 1 + e, t0);
                    e++;
                }
            }
        }
    }

    /**
     * Emulates a slower device class: every local segment (and so every measurement of it) takes
     * {@code factor} times as long as on this machine, the extra time spent waiting. 1: as is.
     */
    public void emulateSlowdown(double factor) {
        if (!(factor >= 1)) {
            throw new IllegalArgumentException("slowdown must be >= 1, got " + factor);
        }
        slowdown = factor;
    }

    private long record(EdgeMeasurements m, int segment, long since) {
        long now = clock.nanoTime();
        double f = slowdown;
        if (f > 1) {
            long until = now + (long) ((f - 1) * (now - since));
            for (long left = until - now; left > 0; left = until - clock.nanoTime()) {
                LockSupport.parkNanos(left);
            }
            now = clock.nanoTime();
        }
        if (m != null) {
            m.recordEdge(segment, now - since);
        }
        return now;
    }

    /** Exits the device can compute itself. */
    public List<Integer> localExits() {
        List<Integer> l = new ArrayList<>();
        for (Manifest.Exit e : pack.manifest().exits()) {
            if (e.afterBlock() <= engine.maxBlock()) {
                l.add(e.index());
            }
        }
        return l;
    }
}
