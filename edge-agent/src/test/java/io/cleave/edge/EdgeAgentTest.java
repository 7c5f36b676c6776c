package io.cleave.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.plan.Plan;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.cloud.CloudPath;
import io.cleave.edge.local.LocalPipeline;
import io.cleave.edge.plan.FixedPlanner;
import io.cleave.edge.race.Candidate;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The race alone: the real local pipeline on the committed pack, a scripted cloud path, a manual
 * clock and a timer fired by hand, so every outcome is decided by the order of events, not by
 * how fast this machine is.
 */
class EdgeAgentTest {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    static SegmentEngine engine;
    static LocalPipeline local;
    static final AtomicLong now = new AtomicLong(1_000 * MS);

    @BeforeAll
    static void open() {
        engine = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withMaxBlock(4));
        local = new LocalPipeline(engine, 1, now::get);
    }

    @AfterAll
    static void close() {
        local.close();
        engine.close();
    }

    /** A cloud path the test drives: it records each offload and lets the test answer for the cloud. */
    static final class ScriptedCloud implements CloudPath {
        record Sent(String id, Plan plan, Tensor tokens, Listener listener, boolean[] cancelled) implements Offload {
            @Override
            public long bytesSent() {
                return 6400;
            }

            @Override
            public void cancel(boolean deadlineWithoutResult) {
                cancelled[0] = true;
            }
        }

        final LinkedBlockingQueue<Sent> sent = new LinkedBlockingQueue<>();

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public Offload offload(String requestId, Plan plan, byte[] pixels, Tensor tokens, long deadline, Listener listener) {
            Sent s = new Sent(requestId, plan, tokens, listener, new boolean[1]);
            sent.add(s);
            return s;
        }

        Sent next() throws InterruptedException {
            Sent s = sent.poll(10, TimeUnit.SECONDS);
            assertThat(s).as("an offload").isNotNull();
            return s;
        }
    }

    /** Deadlines fired by the test. */
    static class HandTimer implements DeadlineTimer {
        record Due(long at, Runnable task, boolean[] cancelled) {}

        final List<Due> due = new ArrayList<>();

        @Override
        public synchronized Runnable at(long atNanos, Runnable task) {
            Due d = new Due(atNanos, task, new boolean[1]);
            due.add(d);
            return () -> d.cancelled()[0] = true;
        }

        /** Moves the clock to the last deadline scheduled and fires it unless cancelled. */
        void fireLast() {
            Due d;
            synchronized (this) {
                d = due.get(due.size() - 1);
            }
            now.set(Math.max(now.get(), d.at()));
            if (!d.cancelled()[0]) {
                d.task().run();
            }
        }
    }

    static final Plan SPLIT_2_NO_EARLY_ANSWER = new Plan(true, 2, Encoding.FP16, 2.0, 4);
    /** The exits a plan with k_max 4 computes on the device: the deepest is the one after block 4. */
    static final int DEEPEST_LOCAL = TestPacks.pack().firstExitAtOrAfter(4);
    static final int FINAL = TestPacks.pack().exitCount() - 1;

    static Candidate cloudExit(int exit, int block, int cls) {
        float[] p = new float[10];
        p[cls] = 1f;
        return new Candidate(exit, block, p, cls, 1f, true, now.get());
    }

    static Outcome await(CompletableFuture<Outcome> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theCloudsFinalExit_answersAtOnce_andCancelsTheDeadline() throws Exception {
        ScriptedCloud cloud = new ScriptedCloud();
        HandTimer timer = new HandTimer();
        EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(SPLIT_2_NO_EARLY_ANSWER), timer, now::get);
        CompletableFuture<Outcome> f = agent.classify("a", TestPacks.testSet().image(0), 40 * MS);
        ScriptedCloud.Sent s = cloud.next();
        assertThat(s.tokens().shape()).containsExactly(1, 50, 64); // the tokens after block 2, handed over at the split
        now.addAndGet(7 * MS);
        s.listener().candidate(cloudExit(FINAL, 8, 4));
        Outcome o = await(f);
        assertThat(o.answer().reason()).isEqualTo("final-exit");
        assertThat(o.answer().candidate().cloud()).isTrue();
        assertThat(o.answer().candidate().predictedClass()).isEqualTo(4);
        assertThat(o.answer().deadlineMet()).isTrue();
        assertThat(timer.due.get(0).cancelled()[0]).as("deadline timer cancelled").isTrue();
    }

    @Test
    void aSilentCloud_isAnsweredAtTheDeadline_withTheDeepestLocalExit() throws Exception {
        ScriptedCloud cloud = new ScriptedCloud();
        HandTimer timer = new HandTimer();
        EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(SPLIT_2_NO_EARLY_ANSWER), timer, now::get);
        long start = now.get();
        CompletableFuture<Outcome> f = agent.classify("b", TestPacks.testSet().image(1), 40 * MS);
        ScriptedCloud.Sent s = cloud.next();
        // local exits come (up to block 4), then nothing: the cloud never answers, never ends
        Thread.sleep(300); // local work is done long before; the answer must still wait for the deadline
        assertThat(f).isNotDone();
        timer.fireLast();
        Outcome o = await(f);
        assertThat(o.answer().reason()).isEqualTo("deadline");
        assertThat(o.answer().candidate().cloud()).isFalse();
        assertThat(o.answer().candidate().exit()).isEqualTo(DEEPEST_LOCAL);
        assertThat(o.answer().deadlineMet()).isTrue();
        assertThat(o.answer().latencyNanos()).isLessThan(40 * MS);
        assertThat(timer.due.get(0).at() - start).as("fires before the deadline").isLessThan(40 * MS);
        assertThat(s.cancelled()[0]).as("cloud stream cancelled").isTrue();
    }

    @Test
    void aFailedCloudPath_answersAsSoonAsLocalWorkIsDone() throws Exception {
        ScriptedCloud cloud = new ScriptedCloud();
        HandTimer timer = new HandTimer();
        EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(SPLIT_2_NO_EARLY_ANSWER), timer, now::get);
        CompletableFuture<Outcome> f = agent.classify("c", TestPacks.testSet().image(2), 40 * MS);
        cloud.next().listener().ended(); // e.g. UNAVAILABLE: the worker died
        Outcome o = await(f);
        assertThat(o.answer().reason()).isEqualTo("all-done");
        assertThat(o.answer().candidate().cloud()).isFalse();
        assertThat(o.answer().candidate().exit()).isEqualTo(DEEPEST_LOCAL);
    }

    @Test
    void aConfidentLocalExit_answersWithoutWaitingForTheCloud() throws Exception {
        ScriptedCloud cloud = new ScriptedCloud();
        HandTimer timer = new HandTimer();
        Plan early = new Plan(true, 2, Encoding.FP16, 0.0, 4); // any local exit is confident enough
        EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(early), timer, now::get);
        Outcome o = await(agent.classify("d", TestPacks.testSet().image(3), 40 * MS));
        assertThat(o.answer().reason()).isEqualTo("confident");
        assertThat(o.answer().candidate().exit()).isEqualTo(0);
        assertThat(o.answer().candidate().cloud()).isFalse();
    }

    @Test
    void thePlanner_plansForWhenTheAnswerGoesOut_theDeadlineLessTheTimersGuard() throws Exception {
        HandTimer late = new HandTimer() {
            @Override
            public long guardNanos(long budgetNanos) {
                return 12 * MS; // a timer seen to wake up 12 ms late answers that much early
            }
        };
        List<Long> plannedFor = new ArrayList<>();
        io.cleave.edge.plan.Planner recording = deadline -> {
            plannedFor.add(deadline);
            return Plan.edgeOnly(4, 2.0);
        };
        EdgeAgent agent = new EdgeAgent(local, new ScriptedCloud(), recording, late, now::get);
        long start = now.get();
        CompletableFuture<Outcome> f = agent.classify("g", TestPacks.testSet().image(5), 60 * MS);
        // a cloud exit predicted in the last 12 ms could never be used: the answer goes out at 48 ms
        assertThat(plannedFor).containsExactly(48 * MS);
        assertThat(late.due.get(0).at() - start).isEqualTo(48 * MS);
        late.fireLast();
        await(f);
    }

    @Test
    void anEdgeOnlyPlan_neverOffloads() throws Exception {
        ScriptedCloud cloud = new ScriptedCloud();
        EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(Plan.edgeOnly(4, 2.0)), new HandTimer(), now::get);
        Outcome o = await(agent.classify("e", TestPacks.testSet().image(4), 40 * MS));
        assertThat(o.answer().reason()).isEqualTo("all-done");
        assertThat(o.bytesSent()).isZero();
        assertThat(cloud.sent).isEmpty();
    }

    /** Another request's first exit holding the only compute thread until {@link #release} counts down. */
    static final class Holder {
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        final io.cleave.edge.local.Recorder recorder = new io.cleave.edge.local.Recorder(release);

        Holder() throws InterruptedException {
            local.submit(local.preprocess(TestPacks.testSet().image(6)), now.get() + 1_000 * MS, local.firstExitBlock(), -1, recorder);
            assertThat(recorder.inExit.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void nothingByTheDeadline_behindABacklog_isAnErrorAtTheDeadline_notALateAnswer() throws Exception {
        // the only compute thread is held inside another request's first exit
        Holder holder = new Holder();
        try {
            HandTimer timer = new HandTimer();
            EdgeAgent agent = new EdgeAgent(local, new ScriptedCloud(), new FixedPlanner(Plan.edgeOnly(4, 2.0)), timer, now::get);
            CompletableFuture<Outcome> late = agent.classify("h", TestPacks.testSet().image(7), 40 * MS);
            CompletableFuture<Outcome> next = agent.classify("i", TestPacks.testSet().image(8), 80 * MS);
            timer.due.get(0).task().run(); // h's deadline: no exit yet, and two requests queue for one thread
            assertThat(late).isCompletedExceptionally();
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, late::get).getCause())
                    .isInstanceOfSatisfying(io.cleave.core.error.CleaveException.class, e -> {
                        assertThat(e.code()).isEqualTo(io.cleave.core.error.ErrorCode.DEADLINE_EXCEEDED);
                        assertThat(e.getMessage()).contains("edge overloaded", "no exit by the deadline of 40.0 ms");
                    });
            holder.release.countDown();
            // h's queued work is dropped; i, now alone, is computed and answered
            Outcome o = await(next);
            assertThat(o.answer().reason()).isEqualTo("all-done");
            assertThat(holder.recorder.finished.get(10, TimeUnit.SECONDS)).isNull();
        } finally {
            holder.release.countDown();
        }
    }

    @Test
    void anOffloadWhoseLocalWorkIsShedBeforeTheSplit_endsThen_insteadOfWaitingForACloudThatNeverStarts() throws Exception {
        // split 2: the cloud path starts with the tokens after block 2. When the work is shed before them, no offload is
        // ever sent, and a request waiting for the cloud path to end waited for ever (a WorkerFailureTest run: 1 of 300)
        Holder holder = new Holder();
        try {
            ScriptedCloud cloud = new ScriptedCloud();
            HandTimer timer = new HandTimer();
            EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(SPLIT_2_NO_EARLY_ANSWER), timer, now::get);
            CompletableFuture<Outcome> shed = agent.classify("s", TestPacks.testSet().image(7), 40 * MS);
            CompletableFuture<Outcome> next = agent.classify("t", TestPacks.testSet().image(8), 1_000 * MS);
            now.addAndGet(50 * MS); // s's deadline passes while both queue behind the holder (its timer not fired yet)
            holder.release.countDown();
            ScriptedCloud.Sent t = cloud.next();
            assertThat(t.id()).as("only t reaches its split").isEqualTo("t");
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> shed.get(10, TimeUnit.SECONDS)).getCause())
                    .isInstanceOfSatisfying(io.cleave.core.error.CleaveException.class, e -> {
                        assertThat(e.code()).isEqualTo(io.cleave.core.error.ErrorCode.DEADLINE_EXCEEDED);
                        assertThat(e.getMessage()).contains("edge overloaded", "could not come by the deadline");
                    });
            t.listener().ended();
            assertThat(await(next).answer().reason()).isEqualTo("all-done");
            assertThat(cloud.sent).isEmpty();
        } finally {
            holder.release.countDown();
        }
    }

    @Test
    void aCancelledRequest_stopsItsWork_itsLocalComputeNeverRuns_andItsTimerAndCloudStreamAreCancelled() throws Exception {
        Holder holder = new Holder(); // the only compute thread is busy: both requests below queue for it
        try {
            ScriptedCloud cloud = new ScriptedCloud();
            HandTimer timer = new HandTimer();
            EdgeAgent atSplit2 = new EdgeAgent(local, cloud, new FixedPlanner(SPLIT_2_NO_EARLY_ANSWER), timer, now::get);
            EdgeAgent atSplit0 = new EdgeAgent(local, cloud, new FixedPlanner(new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 4)), timer,
                    now::get);
            CompletableFuture<Outcome> input = atSplit0.classify("x0", TestPacks.testSet().image(3), 1_000 * MS);
            ScriptedCloud.Sent x0 = cloud.next(); // the input goes to the cloud at once
            CompletableFuture<Outcome> tokens = atSplit2.classify("x2", TestPacks.testSet().image(4), 1_000 * MS);
            CompletableFuture<Outcome> kept = atSplit2.classify("y", TestPacks.testSet().image(5), 1_000 * MS);

            assertThat(input.cancel(false)).isTrue();
            assertThat(tokens.cancel(false)).isTrue();
            assertThat(x0.cancelled()[0]).as("the cancelled request's cloud stream").isTrue();
            assertThat(timer.due.get(0).cancelled()[0]).as("x0's deadline timer").isTrue();
            assertThat(timer.due.get(1).cancelled()[0]).as("x2's deadline timer").isTrue();
            assertThat(timer.due.get(2).cancelled()[0]).as("y's deadline timer").isFalse();

            holder.release.countDown();
            ScriptedCloud.Sent y = cloud.next();
            assertThat(y.id()).as("x2's queued work was dropped: only y reaches its split").isEqualTo("y");
            y.listener().ended();
            assertThat(await(kept).answer().reason()).isEqualTo("all-done");
            assertThat(cloud.sent).isEmpty();
        } finally {
            holder.release.countDown();
        }
    }
}
