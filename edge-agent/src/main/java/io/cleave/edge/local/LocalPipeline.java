package io.cleave.edge.local;

import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.measure.WindowedSamples;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.edge.race.Candidate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's own compute, in the worker's shape: requests advance one segment (stem, block,
 * exit) at a time through a priority queue served by a fixed set of threads. Work that leads to a
 * request's first local exit goes before deeper work, and among each kind the earliest deadline
 * goes first: under overload every admitted request still gets its first local answer in time,
 * and deeper local exits use what capacity is left. Between segments a thread switches to more
 * urgent work, so a long request never holds up a short one by more than one segment.
 *
 * <p>It also knows how long a new request would wait for its first local exit (queue ahead of
 * it plus its own measured cost), which is what the agent's admission control asks.
 */
public final class LocalPipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalPipeline.class);

    /** What a request's local work reports, on a pipeline thread. */
    public interface Listener {
        /** The tokens after {@code block}, the request's split point. */
        void tokens(int block, Tensor tokens);

        /** A local exit's result. */
        void exit(Candidate c);

        /** True once the request is answered: its remaining local work is dropped. */
        boolean answered();

        /** No more local work will run for this request ({@code failure} null: it ran to its end or was answered). */
        void finished(RuntimeException failure);
    }

    private final SegmentEngine engine;
    private final ModelPack pack;
    private final Segments segments;
    private final TypicalTimes typical;
    private final Preprocessor preprocessor;
    private final NanoClock clock;
    private final int threads;
    private final List<Manifest.Exit> localExits;
    private final ExitPlacement placement;
    private final int firstExitBlock; // block after which the first local exit comes; 0 when none is held
    private final PriorityBlockingQueue<Job> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicInteger awaitingFirstExit = new AtomicInteger();
    private final AtomicLong sequence = new AtomicLong();
    private final WindowedSamples firstExitCost; // service time of stem .. first local exit, per request
    private final WindowedSamples underPrediction; // actual / predicted first-exit wait of requests queued behind others
    private volatile EdgeMeasurements measurements;
    private volatile double slowdown = 1;
    private volatile boolean closed;

    /**
     * @param threads compute threads; at most the processors available: more threads than cores
     *     only make every request's segments (and the deadline timer) wait for a CPU, while queued
     *     requests wait in urgency order
     */
    public LocalPipeline(SegmentEngine engine, int threads, NanoClock clock) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        threads = Math.min(threads, Runtime.getRuntime().availableProcessors());
        this.engine = engine;
        this.pack = engine.pack();
        this.segments = Segments.of(pack);
        this.typical = new TypicalTimes(segments.count());
        this.preprocessor = new Preprocessor(pack);
        this.clock = clock;
        this.threads = threads;
        this.placement = ExitPlacement.of(pack, engine.maxBlock());
        List<Manifest.Exit> held = new ArrayList<>();
        for (Manifest.Exit e : pack.manifest().exits()) {
            if (placement.held(e.index())) {
                held.add(e);
            }
        }
        this.localExits = List.copyOf(held);
        this.firstExitBlock = placement.firstHeldBlock();
        this.firstExitCost = new WindowedSamples(clock, TimeUnit.SECONDS.toNanos(10), 256);
        this.underPrediction = new WindowedSamples(clock, TimeUnit.SECONDS.toNanos(10), 256);
        this.queue = new PriorityBlockingQueue<>(64, Comparator.comparing((Job j) -> !j.awaitingFirstExit)
                .thenComparingLong(j -> j.deadline).thenComparingLong(j -> j.seq));
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::serve, "cleave-edge-compute-" + (i + 1));
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
    }

    public ModelPack pack() {
        return pack;
    }

    /** Blocks the device holds (k_max). */
    public int kMax() {
        return engine.maxBlock();
    }

    /** Where a request's exits are computed on this device. */
    public ExitPlacement placement() {
        return placement;
    }

    /** The exits the device computes itself, in order. */
    public List<Manifest.Exit> localExits() {
        return localExits;
    }

    /** Whether the device holds any exit of its own. */
    public boolean hasLocalExit() {
        return firstExitBlock > 0;
    }

    /** The block after which the first local exit comes (0: none held). */
    public int firstExitBlock() {
        return firstExitBlock;
    }

    /** Bytes of one raw input image. */
    public int inputSize() {
        return preprocessor.size();
    }

    public Tensor preprocess(byte[] pixels) {
        return preprocessor.apply(pixels, 1);
    }

    /** Feeds every local segment time to {@code m} from now on. */
    public void measureInto(EdgeMeasurements m) {
        this.measurements = m;
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

    /**
     * How long from now a request submitted now would wait for its first local exit: the first-exit
     * work of the requests ahead of it shared over the threads at the mean of recent requests'
     * costs (a queue drains at its mean rate), then one segment in progress and its own at a high
     * quantile (a burst's costs are those of its contended tail: at the median, 74% of a
     * 500-request burst's admitted requests came late), times a margin; 0 before anything was
     * measured. The work ahead at the 90th percentile instead counted every request's rare stall
     * once per request ahead: with one in ten first exits preempted for 5-8 ms, a 2-thread edge
     * predicted 95 ms for a request behind one other and refused 894 of a 1000-request burst.
     */
    public long firstExitEtaNanos() {
        if (awaitingFirstExit.get() == 0) {
            return idleFirstExitEtaNanos();
        }
        double own = firstExitCost.quantile(0.9);
        if (Double.isNaN(own)) {
            return 0;
        }
        return (long) (margin() * rawEtaNanos(own, firstExitCost.mean()));
    }

    /** The first-exit wait the cost model predicts, before any margin. */
    private double rawEtaNanos(double own, double mean) {
        int steps = firstExitBlock + 2; // stem, the blocks, the exit
        double ahead = awaitingFirstExit.get() * mean / threads;
        return ahead + own + own / steps;
    }

    /**
     * The margin over the model: at least {@link #ADMISSION_MARGIN}, and as much as the model has been
     * seen to under-predict lately (the 90th percentile of actual over predicted first-exit waits of
     * recent requests that queued behind a backlog, at most {@link #MAX_MARGIN}): what the model leaves
     * out under a burst (the device API, answer delivery, deeper segments in progress, garbage
     * collection, other processes on the same cores) differs by machine and by pack. Learned behind a
     * backlog, it applies behind one: applied to a request with one other ahead after a burst's
     * arrival (a 12x margin learned while the device API took the cores) it refused every
     * request of the burst's tail, predicted at 110 ms for a 100 ms deadline.
     */
    private double margin() {
        if (awaitingFirstExit.get() < BACKLOG_ROUNDS * threads) {
            return ADMISSION_MARGIN;
        }
        double seen = underPrediction.quantile(0.9);
        return Double.isNaN(seen) ? ADMISSION_MARGIN : Math.min(MAX_MARGIN, Math.max(ADMISSION_MARGIN, seen));
    }

    static final double MAX_MARGIN = 20;

    /** Rounds of first-exit work queued ahead (per thread) from which a request's wait is checked against the model. */
    static final int BACKLOG_ROUNDS = 2;

    /**
     * With nothing queued ahead, the request's own first-exit cost, without the burst margin: an idle
     * device admits anything its measured cost fits, so an estimate inflated by a stall or a cold start
     * is refreshed by the next request instead of refusing all traffic until its samples age out.
     */
    private long idleFirstExitEtaNanos() {
        double own = firstExitCost.quantile(0.5);
        return Double.isNaN(own) ? 0 : (long) own;
    }

    /**
     * The least margin over the measured costs (see {@link #margin}): costs are measured on
     * recent, usually calmer, requests, while a burst also brings the device API, the network and
     * garbage collection onto the same cores (measured on 2 cores: at 1x, up to half of a 500-request
     * burst's admitted requests came late; at 2x none did in the runs recorded in the README).
     */
    static final double ADMISSION_MARGIN = 2.0;

    /**
     * Whether more requests await their first local exit than there are threads: work is queued
     * behind work, and time spent on a request that has missed its deadline is taken from requests
     * still in time.
     */
    public boolean backlogged() {
        return awaitingFirstExit.get() > threads;
    }

    /** Admitted requests whose first local exit has not come yet. */
    public int awaitingFirstExit() {
        return awaitingFirstExit.get();
    }

    /**
     * A request's local work dropped before it started: with a backlog, its first local exit could
     * not come by its deadline. Running it anyway would make the requests queued behind it late in
     * turn (under earliest-deadline-first, one stall then spreads to the whole queue).
     */
    public static final class Shed extends RuntimeException {
        Shed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Queues a request's local work: stem, blocks 1..{@code localTo}, every held exit within them;
     * {@code sendAfter} is the block whose tokens go to {@link Listener#tokens} (-1: none).
     */
    public void submit(Tensor image, long deadline, int localTo, int sendAfter, Listener listener) {
        submit(image, deadline, localTo, sendAfter, io.cleave.core.plan.BlockSkip.NONE, listener);
    }

    /** As {@link #submit(Tensor, long, int, int, Listener)}, leaving out the blocks in {@code skip} (their tokens pass on unchanged). */
    public void submit(Tensor image, long deadline, int localTo, int sendAfter, io.cleave.core.plan.BlockSkip skip, Listener listener) {
        Job j = new Job(image, deadline, Math.min(localTo, engine.maxBlock()), sendAfter, skip, listener, sequence.incrementAndGet());
        if (closed) {
            listener.finished(new IllegalStateException("edge agent is shutting down"));
            return;
        }
        if (j.awaitingFirstExit) {
            double own = firstExitCost.quantile(0.9);
            // queued behind a backlog (two rounds of first-exit work or more): keep the prediction to check it. Behind one or two
            // requests the predicted wait is a few milliseconds and one scheduling hiccup reads as a 10x under-prediction,
            // which then refused steady traffic (a 40 ms deadline refused at 48.9 ms predicted in a fresh-clone CI run)
            if (awaitingFirstExit.get() >= BACKLOG_ROUNDS * threads && !Double.isNaN(own)) {
                j.predictedWait = rawEtaNanos(own, firstExitCost.mean());
                j.submittedAt = clock.nanoTime();
            }
            awaitingFirstExit.incrementAndGet();
        }
        queue.add(j);
    }

    /**
     * Runs the local pipeline (stem, every block held, every local exit) {@code rounds} times on a
     * blank image on the calling thread: JIT and ONNX Runtime warm up, and the first-exit cost and
     * the edge's measurements get their start-up values.
     */
    public void warmUp(int rounds) {
        byte[] blank = new byte[preprocessor.size()];
        for (int r = 0; r < rounds; r++) {
            long start = clock.nanoTime();
            long t0 = start;
            Tensor t = engine.stem(preprocessor.apply(blank, 1));
            t0 = record(Segments.STEM, t0);
            int e = 0;
            for (int b = 1; b <= engine.maxBlock(); b++) {
                t = engine.blocks(t, b - 1, b);
                t0 = record(segments.block(b), t0);
                while (e < localExits.size() && localExits.get(e).afterBlock() == b) {
                    engine.exit(localExits.get(e).index(), t);
                    t0 = record(segments.exit(localExits.get(e).index()), t0);
                    if (e == 0 && 2 * r >= rounds) {
                        firstExitCost.add(t0 - start); // the later, warmer half: cold first passes would refuse traffic for a window
                    }
                    e++;
                }
            }
        }
    }

    private void serve() {
        while (!closed) {
            Job j;
            try {
                j = queue.take();
            } catch (InterruptedException e) {
                break;
            }
            // run this request's segments while it stays the most urgent work
            while (j != null) {
                boolean more = j.step();
                if (!more) {
                    break;
                }
                Job head = queue.peek();
                if (head != null && queue.comparator().compare(head, j) < 0) {
                    queue.add(j);
                    break;
                }
            }
        }
    }

    /**
     * Records a local segment's time (after any emulated slowdown); returns now. The emulated device
     * spends (factor - 1) times the segment's typical time here on top of this run: the typical time,
     * not this run's, so that a run stretched by this machine's contention (a preempted thread, a GC
     * pause) is not stretched again by the factor.
     */
    /**
     * The tokens after {@code block} reduced as {@code r} says, for the cloud (the probe and the reduction run here, on
     * the caller's thread: the local worker that ran the block, so an emulated device's slowdown applies to them too).
     */
    public Tensor reduce(int block, Tensor tokens, io.cleave.core.reduce.TokenReduction r) {
        if (!r.reduces()) {
            return tokens;
        }
        long t0 = clock.nanoTime();
        Tensor out = io.cleave.core.reduce.TokenReducer.reduce(engine, block, tokens, r);
        slowDown(clock.nanoTime() - t0);
        return out;
    }

    /** Emulates a slower device: waits (slowdown - 1) times {@code took}; returns now. */
    private long slowDown(double took) {
        long now = clock.nanoTime();
        double f = slowdown;
        if (f > 1) {
            long until = now + (long) ((f - 1) * took);
            for (long left = until - now; left > 0; left = until - clock.nanoTime()) {
                LockSupport.parkNanos(left);
            }
            now = clock.nanoTime();
        }
        return now;
    }

    private long record(int segment, long since) {
        long now = slowdown > 1 ? slowDown(typical.addAndMedian(segment, clock.nanoTime() - since)) : clock.nanoTime();
        EdgeMeasurements m = measurements;
        if (m != null) {
            m.recordEdge(segment, now - since);
        }
        return now;
    }

    @Override
    public void close() {
        closed = true;
        workers.forEach(Thread::interrupt);
        for (Job j; (j = queue.poll()) != null; ) {
            j.end(new IllegalStateException("edge agent is shutting down"));
        }
    }

    /** Each segment's median time over its last runs here: what an emulated slower device scales. */
    static final class TypicalTimes {
        private static final int WINDOW = 31;
        private final long[][] recent;
        private final int[] seen;

        TypicalTimes(int segments) {
            recent = new long[segments][WINDOW];
            seen = new int[segments];
        }

        /** Adds a segment's time and returns the median of its last (up to) {@value #WINDOW} times. */
        synchronized long addAndMedian(int segment, long nanos) {
            long[] r = recent[segment];
            r[seen[segment]++ % WINDOW] = nanos;
            int n = Math.min(seen[segment], WINDOW);
            long[] sorted = java.util.Arrays.copyOf(r, n);
            java.util.Arrays.sort(sorted);
            return sorted[n / 2];
        }
    }

    /** One request's local work, advanced a segment per {@link #step}. */
    private final class Job {
        final Tensor image;
        final long deadline;
        final int localTo;
        final int sendAfter;
        final io.cleave.core.plan.BlockSkip skip;
        final Listener listener;
        final long seq;
        volatile boolean awaitingFirstExit;
        double predictedWait; // 0: not checked
        long submittedAt;
        Tensor tokens; // null until the stem ran
        int block; // last block run
        int exit; // next index into localExits
        long service; // compute time so far, up to the first exit
        boolean ended;

        Job(Tensor image, long deadline, int localTo, int sendAfter, io.cleave.core.plan.BlockSkip skip, Listener listener, long seq) {
            this.image = image;
            this.deadline = deadline;
            this.localTo = localTo;
            this.sendAfter = sendAfter;
            this.skip = skip;
            this.listener = listener;
            this.seq = seq;
            this.awaitingFirstExit = firstExitBlock > 0 && firstExitBlock <= localTo;
        }

        /** Runs the next segment; false when this job is done. */
        boolean step() {
            if (listener.answered()) {
                if (awaitingFirstExit && predictedWait > 0 && clock.nanoTime() > deadline) {
                    underPrediction.add((clock.nanoTime() - submittedAt) / predictedWait); // at least this much
                }
                end(null);
                return false;
            }
            try {
                long t0 = clock.nanoTime();
                if (tokens == null && awaitingFirstExit && backlogged()) {
                    double own = firstExitCost.quantile(0.5);
                    if (!Double.isNaN(own) && t0 + own > deadline) {
                        if (predictedWait > 0) {
                            underPrediction.add((t0 + own - submittedAt) / predictedWait); // a lower bound: it never ran
                        }
                        end(new Shed(String.format("edge overloaded: the first local exit could not come by the deadline"
                                + " (%.1f ms left, it takes %.1f ms; %d requests await theirs)",
                                (deadline - t0) / 1e6, own / 1e6, LocalPipeline.this.awaitingFirstExit())));
                        return false;
                    }
                }
                if (tokens == null) {
                    tokens = engine.stem(image);
                    service += record(Segments.STEM, t0) - t0;
                } else if (exit < localExits.size() && localExits.get(exit).afterBlock() == block) {
                    Manifest.Exit e = localExits.get(exit++);
                    Tensor logits = engine.exit(e.index(), tokens);
                    long now = record(segments.exit(e.index()), t0);
                    float[] p = Calibration.probabilities(logits.data(), 0, pack.classes(), e.temperature());
                    int cls = Calibration.argmax(p);
                    if (awaitingFirstExit) {
                        service += now - t0;
                        firstExitCost.add(service);
                        if (predictedWait > 0) {
                            underPrediction.add((now - submittedAt) / predictedWait);
                        }
                        firstExitDone();
                    }
                    listener.exit(new Candidate(e.index(), e.afterBlock(), p, cls, p[cls], false, clock.nanoTime()));
                } else if (block < localTo) {
                    if (skip.skips(block + 1)) { // left out: its tokens pass on unchanged, nothing measured
                        block++;
                    } else {
                        tokens = engine.blocks(tokens, block, block + 1);
                        block++;
                        long now = record(segments.block(block), t0);
                        if (awaitingFirstExit) {
                            service += now - t0;
                        }
                    }
                    if (block == sendAfter) {
                        listener.tokens(block, tokens);
                    }
                } else {
                    end(null);
                    return false;
                }
                return true;
            } catch (RuntimeException ex) {
                log.warn("local compute failed", ex);
                end(ex);
                return false;
            }
        }

        void firstExitDone() {
            if (awaitingFirstExit) {
                awaitingFirstExit = false;
                LocalPipeline.this.awaitingFirstExit.decrementAndGet();
            }
        }

        void end(RuntimeException failure) {
            if (ended) {
                return;
            }
            ended = true;
            firstExitDone();
            listener.finished(failure);
        }
    }
}
