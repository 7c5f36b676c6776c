package io.cleave.worker.batch;

import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.time.NanoClock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layer-wise batching across requests, whatever split they entered at.
 *
 * <p>One queue per stage (0 = stem, k = block k), each ordered by deadline. The loop picks the
 * stage whose head has the earliest deadline (EDF), runs that segment once on up to
 * {@code maxBatch} stacked jobs, evaluates the exits sitting after that block for just the jobs
 * that want them (per-sample masking), streams those results, and re-queues each job at the next
 * stage. Jobs that entered at different splits meet in the same queue and share batches from
 * there. Expired and cancelled jobs are dropped before compute.
 *
 * <pre>{@code
 * CompletableFuture<Void> done = scheduler.submit(job);   // results flow to job.listener()
 * done.cancel(false);                                     // the edge went away: stop its work
 * }</pre>
 */
public final class LayerScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LayerScheduler.class);

    private final SegmentEngine engine;
    private final ModelPack pack;
    private final SchedulerConfig config;
    private final NanoClock clock;
    private final Segments segments;
    private final ComputeProfile profile;
    private final List<PriorityQueue<Job.State>> stages = new ArrayList<>();
    private final List<List<Integer>> exitsAfterBlock = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final Thread loop;
    private int queued;
    private long seq;
    private volatile boolean running = true;
    private volatile SchedulerMetrics metrics; // null: not reported

    public LayerScheduler(SegmentEngine engine, SchedulerConfig config, NanoClock clock) {
        this.engine = engine;
        this.pack = engine.pack();
        this.config = config;
        this.clock = clock;
        this.segments = Segments.of(pack);
        this.profile = new ComputeProfile(segments, config.maxBatch());
        Comparator<Job.State> edf = Comparator.<Job.State>comparingLong(s -> s.job.deadline().atNanos())
                .thenComparingLong(s -> s.seq);
        for (int s = 0; s <= pack.blockCount(); s++) {
            stages.add(new PriorityQueue<>(edf));
            exitsAfterBlock.add(new ArrayList<>());
        }
        for (Manifest.Exit e : pack.manifest().exits()) {
            exitsAfterBlock.get(e.afterBlock()).add(e.index());
        }
        loop = new Thread(this::run, "cleave-layer-scheduler");
        loop.setDaemon(true);
    }

    /** Starts the scheduling loop; jobs submitted before wait in their queues until then. */
    public LayerScheduler start() {
        loop.start();
        return this;
    }

    /** Reports queue depth, batch sizes, segment times and refusals to {@code registry} from now on. */
    public LayerScheduler measureInto(io.micrometer.core.instrument.MeterRegistry registry) {
        metrics = new SchedulerMetrics(registry, this);
        return this;
    }

    private void refused(String reason) {
        SchedulerMetrics m = metrics;
        if (m != null) {
            m.refused(reason);
        }
    }

    private void ran(String kind, int index, int batch, long nanos) {
        SchedulerMetrics m = metrics;
        if (m != null) {
            m.segment(kind, index, nanos);
            if (!kind.equals("exit")) {
                m.blockRun(batch);
            }
        }
    }

    public ComputeProfile profile() {
        return profile;
    }

    public SchedulerConfig config() {
        return config;
    }

    /** Jobs waiting in block queues now. */
    public int queued() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a job. The future completes after the job's last result was delivered, or
     * exceptionally (DEADLINE_EXCEEDED when it expired before finishing); cancelling it removes
     * the job before its next compute.
     *
     * @throws CleaveException DEADLINE_EXCEEDED when the job's deadline has passed already;
     *     RESOURCE_EXHAUSTED when the queues are full or the job is predicted to miss its deadline
     *     at its first exit; UNAVAILABLE after close
     */
    public CompletableFuture<Void> submit(Job job) {
        if (job.exits().isEmpty()) {
            throw CleaveException.invalid("job " + job.requestId() + " wants no exit");
        }
        int first = job.exits().nextSetBit(0);
        if (first < pack.firstExitAtOrAfter(job.split() + 1) || job.exits().length() > pack.exitCount()) {
            throw CleaveException.invalid("job " + job.requestId() + " wants exits " + job.exits() + ": entering after block "
                    + job.split() + ", only exits " + pack.firstExitAtOrAfter(job.split() + 1) + ".." + (pack.exitCount() - 1) + " lie ahead");
        }
        if (!job.skip().equals(job.skip().within(job.split(), pack.blockCount()))) {
            throw CleaveException.invalid("job " + job.requestId() + " skips blocks " + job.skip() + ": only blocks " + (job.split() + 1)
                    + ".." + pack.blockCount() + " lie ahead");
        }
        if (job.keptTokens() != 0) {
            int full = segments.tokens();
            if (!pack.reducible() || job.split() < 1 || job.keptTokens() <= pack.prefixTokens() || job.keptTokens() >= full
                    || job.values().length != job.keptTokens() * (segments.tokenShape(1)[2])) {
                throw CleaveException.invalid("job " + job.requestId() + " carries " + job.keptTokens() + " tokens after block "
                        + job.split() + ": not a reduction this pack takes there");
            }
            for (int e = job.exits().nextSetBit(0); e >= 0; e = job.exits().nextSetBit(e + 1)) {
                if (!pack.exit(e).acceptsReducedTokens()) {
                    throw CleaveException.invalid("job " + job.requestId() + " wants exit " + e + ", which needs every token");
                }
            }
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        lock.lock();
        try {
            if (!running) {
                refused("shutting_down");
                throw new CleaveException(ErrorCode.UNAVAILABLE, "worker is shutting down");
            }
            if (queued >= config.queueCapacity()) {
                refused("queue_full");
                throw new CleaveException(ErrorCode.RESOURCE_EXHAUSTED,
                        "worker queue full (" + config.queueCapacity() + " requests waiting)");
            }
            long now = clock.nanoTime();
            long left = job.deadline().atNanos() - now;
            if (left <= 0) { // expired already (e.g. while its payload arrived): late, not busy, so no retry
                throw new CleaveException(ErrorCode.DEADLINE_EXCEEDED, String.format(
                        "deadline passed %.2f ms before request %s could be queued", -left / 1e6, job.requestId()));
            }
            Job.State s = new Job.State(job, done, seq++, now, job.keptTokens() == 0 ? segments.tokens() : job.keptTokens());
            if (config.admissionControl()) {
                long predicted = predictFirstExitNanos(s);
                if (predicted > left) {
                    refused("deadline");
                    throw new CleaveException(ErrorCode.RESOURCE_EXHAUSTED, String.format(
                            "cannot meet the deadline: first exit predicted in %.2f ms (%d queued ahead), %.2f ms left",
                            predicted / 1e6, queued, left / 1e6));
                }
            }
            stages.get(s.stage).add(s);
            queued++;
            ready.signal();
        } finally {
            lock.unlock();
        }
        return done;
    }

    /** Queue ahead (every job's remaining work, at the batch size the queue suggests) plus this job's own work to its first exit. Caller holds the lock. */
    private long predictFirstExitNanos(Job.State s) {
        int batch = Math.max(1, Math.min(queued + 1, config.maxBatch()));
        double ahead = 0;
        for (PriorityQueue<Job.State> q : stages) {
            for (Job.State o : q) {
                ahead += remainingNanos(o, o.job.exits().length() - 1, batch) / batch;
            }
        }
        return (long) (ahead + remainingNanos(s, s.job.exits().nextSetBit(0), 1));
    }

    /**
     * Predicted compute from the job's stage to {@code untilExit}. A reduced job's blocks and exits are predicted as
     * the full-token ones scaled by its share of the tokens: linear in the tokens, as the projections and MLPs that
     * dominate a ViT block are (attention's quadratic part makes it an overestimate for fewer tokens).
     */
    private double remainingNanos(Job.State s, int untilExit, int batch) {
        int lastBlock = pack.exit(untilExit).afterBlock();
        double share = (double) s.tokens / segments.tokens();
        double t = 0;
        for (int stage = s.stage; stage <= lastBlock; stage++) {
            if (stage == 0 || !s.job.skip().skips(stage)) {
                t += profile.predict(stage == 0 ? segments.stem() : segments.block(stage), batch) * (stage == 0 ? 1 : share);
            }
            for (int e : exitsAfterBlock.get(stage)) {
                if (s.job.exits().get(e) && e <= untilExit) {
                    t += profile.predict(segments.exit(e), batch) * share;
                }
            }
        }
        return t;
    }

    private void run() {
        while (running) {
            List<Job.State> batch;
            int stage;
            lock.lock();
            try {
                stage = pickStage();
                while (running && stage < 0) {
                    ready.await();
                    stage = pickStage();
                }
                if (!running) {
                    break;
                }
                batch = drain(stage);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                lock.unlock();
            }
            try {
                step(stage, batch);
            } catch (RuntimeException e) {
                log.error("stage {} failed for a batch of {}", stage, batch.size(), e);
                CleaveException ce = e instanceof CleaveException ? (CleaveException) e
                        : new CleaveException(ErrorCode.INTERNAL, "compute failed: " + e.getMessage(), e);
                batch.forEach(s -> s.done.completeExceptionally(ce));
            }
        }
    }

    /** Drops expired and cancelled heads; returns the stage with the earliest head deadline, or -1. */
    private int pickStage() {
        int best = -1;
        long bestAt = 0;
        long now = clock.nanoTime();
        for (int st = 0; st < stages.size(); st++) {
            PriorityQueue<Job.State> q = stages.get(st);
            for (Iterator<Job.State> it = q.iterator(); it.hasNext(); ) {
                Job.State s = it.next();
                if (s.done.isDone()) { // cancelled by the caller
                    it.remove();
                    queued--;
                } else if (s.job.deadline().atNanos() - now <= 0) {
                    it.remove();
                    queued--;
                    s.done.completeExceptionally(new CleaveException(ErrorCode.DEADLINE_EXCEEDED,
                            "deadline passed before block " + Math.max(1, s.stage) + " of request " + s.job.requestId()));
                }
            }
            Job.State head = q.peek();
            if (head != null && (best < 0 || head.job.deadline().atNanos() - bestAt < 0)) {
                best = st;
                bestAt = head.job.deadline().atNanos();
            }
        }
        return best;
    }

    /**
     * Takes the stage's head and, in deadline order, up to {@code maxBatch - 1} more jobs carrying as many tokens as it
     * does (a batch is one tensor: reduced-token jobs batch with jobs reduced to the same count) and skipping this stage's
     * block as it does or not; the others stay queued.
     */
    private List<Job.State> drain(int stage) {
        PriorityQueue<Job.State> q = stages.get(stage);
        List<Job.State> batch = new ArrayList<>(Math.min(q.size(), config.maxBatch()));
        List<Job.State> other = null;
        long now = clock.nanoTime();
        int tokens = q.peek().tokens;
        boolean skips = q.peek().job.skip().skips(stage);
        while (!q.isEmpty() && batch.size() < config.maxBatch()) {
            Job.State s = q.poll();
            if (stage > 0 && (s.tokens != tokens || s.job.skip().skips(stage) != skips)) {
                if (other == null) {
                    other = new ArrayList<>();
                }
                other.add(s);
                continue;
            }
            queued--;
            s.queueNanos += now - s.enqueuedAt;
            batch.add(s);
        }
        if (other != null) {
            q.addAll(other);
        }
        return batch;
    }

    private void step(int stage, List<Job.State> batch) {
        int n = batch.size();
        List<Tensor> parts = new ArrayList<>(n);
        int tokens = batch.get(0).tokens;
        boolean full = stage == 0 || tokens == segments.tokens();
        int[] sampleShape = stage == 0 ? segments.inputShape(1) : segments.tokenShape(1, tokens);
        for (Job.State s : batch) {
            parts.add(new Tensor(s.values, sampleShape));
        }
        Tensor x = Tensor.stack(parts);
        boolean skipped = stage > 0 && batch.get(0).job.skip().skips(stage);
        long t0 = clock.nanoTime();
        Tensor y = skipped ? x : stage == 0 ? engine.stem(x) : engine.blocks(x, stage - 1, stage); // a skipped block passes its tokens on
        long dt = skipped ? 0 : clock.nanoTime() - t0;
        if (full && !skipped) { // the profile is of full-token batches; reduced ones are predicted from it (see remainingNanos)
            profile.record(stage == 0 ? segments.stem() : segments.block(stage), n, dt);
        }
        if (!skipped) {
            ran(stage == 0 ? "stem" : "block", stage, n, dt);
        }
        for (int i = 0; i < n; i++) {
            Job.State s = batch.get(i);
            s.values = y.row(i);
            s.computeNanos += dt;
            s.maxBatch = Math.max(s.maxBatch, n);
        }
        if (stage > 0) {
            for (int e : exitsAfterBlock.get(stage)) {
                runExit(e, stage, batch, y, full);
            }
        }
        lock.lock();
        try {
            long now = clock.nanoTime();
            for (Job.State s : batch) {
                if (s.exitsLeft == 0 || s.done.isDone()) {
                    continue;
                }
                s.stage = stage + 1;
                s.enqueuedAt = now;
                stages.get(s.stage).add(s);
                queued++;
            }
            if (queued > 0) {
                ready.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Runs exit e only for the samples that want it (masking the rest), and streams results. */
    private void runExit(int e, int block, List<Job.State> batch, Tensor tokens, boolean full) {
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Job.State s = batch.get(i);
            if (s.job.exits().get(e) && !s.done.isDone()) {
                rows.add(i);
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        Tensor in = rows.size() == batch.size() ? tokens : Tensor.stack(rows.stream().map(tokens::sample).toList());
        long t0 = clock.nanoTime();
        Tensor logits = engine.exit(e, in);
        long dt = clock.nanoTime() - t0;
        if (full) {
            profile.record(segments.exit(e), rows.size(), dt);
        }
        ran("exit", e, rows.size(), dt);
        double temperature = pack.exit(e).temperature();
        int classes = pack.classes();
        for (int r = 0; r < rows.size(); r++) {
            Job.State s = batch.get(rows.get(r));
            s.computeNanos += dt;
            float[] p = Calibration.probabilities(logits.data(), r * classes, classes, temperature);
            int cls = Calibration.argmax(p);
            s.exitsLeft--;
            boolean last = s.exitsLeft == 0;
            try {
                s.job.listener().onExit(new ExitOutput(e, block, p, cls, p[cls], s.queueNanos, s.computeNanos, s.maxBatch), last);
            } catch (RuntimeException ex) {
                log.warn("listener of {} failed; dropping the request", s.job.requestId(), ex);
                s.done.completeExceptionally(ex);
                continue;
            }
            if (last) {
                s.done.complete(null);
            }
        }
    }

    /**
     * Start-up calibration: times every loaded segment at a few batch sizes so admission control
     * has a profile before the first request.
     */
    public void calibrate(int repeats) {
        for (int b : new int[] {1, 2, 4, 8, 16, 32}) {
            if (b > config.maxBatch()) {
                break;
            }
            int[] ts = segments.tokenShape(b);
            Tensor tokens = new Tensor(new float[b * Segments.sampleSize(ts)], ts);
            int[] is = segments.inputShape(b);
            Tensor image = new Tensor(new float[b * Segments.sampleSize(is)], is);
            for (int r = 0; r < repeats; r++) {
                long t0 = clock.nanoTime();
                engine.stem(image);
                profile.record(segments.stem(), b, clock.nanoTime() - t0);
                for (int k = 1; k <= pack.blockCount(); k++) {
                    t0 = clock.nanoTime();
                    engine.blocks(tokens, k - 1, k);
                    profile.record(segments.block(k), b, clock.nanoTime() - t0);
                }
                for (int e = 0; e < pack.exitCount(); e++) {
                    t0 = clock.nanoTime();
                    engine.exit(e, tokens);
                    profile.record(segments.exit(e), b, clock.nanoTime() - t0);
                }
            }
        }
    }

    /** Stops the loop; jobs still queued fail with UNAVAILABLE. */
    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            for (PriorityQueue<Job.State> q : stages) {
                for (Job.State s : q) {
                    s.done.completeExceptionally(new CleaveException(ErrorCode.UNAVAILABLE, "worker shut down"));
                }
                q.clear();
            }
            queued = 0;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            if (loop.isAlive()) {
                loop.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
