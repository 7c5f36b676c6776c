package io.cleave.worker.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.Deadline;
import io.cleave.core.time.ManualClock;
import io.cleave.core.time.NanoClock;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LayerSchedulerTest {
    static ModelPack pack;
    static SegmentEngine engine;
    static Preprocessor pre;

    @BeforeAll
    static void open() {
        pack = TestPacks.pack();
        engine = SegmentEngine.open(pack, EngineOptions.defaults());
        pre = new Preprocessor(pack);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    record Result(String id, ExitOutput out, boolean last) {}

    static final class Sink {
        final List<Result> results = Collections.synchronizedList(new ArrayList<>());

        ExitListener listener(String id) {
            return (o, last) -> results.add(new Result(id, o, last));
        }

        List<Result> of(String id) {
            return results.stream().filter(r -> r.id.equals(id)).toList();
        }
    }

    static Tensor image(int i) {
        return pre.apply(TestPacks.testSet().image(i), 1);
    }

    static float[] tokensAfter(int i, int block) {
        return engine.blocks(engine.stem(image(i)), 0, block).data();
    }

    static BitSet exitsAfter(int split) {
        BitSet b = new BitSet();
        for (int e = pack.firstExitAtOrAfter(split + 1); e < pack.exitCount(); e++) {
            b.set(e);
        }
        return b;
    }

    /** Reference: the engine alone, batch 1. */
    static float[] probs(int image, int exit) {
        Tensor t = engine.blocks(engine.stem(image(image)), 0, pack.exit(exit).afterBlock());
        return Calibration.probabilities(engine.exit(exit, t).data(), 0, pack.classes(), pack.exit(exit).temperature());
    }

    @Test
    void reducedTokenJobs_batchOnlyWithJobsOfTheSameCount_andGetTheEnginesAnswerOnTheirTokens() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        var merge = io.cleave.core.reduce.TokenReduction.parse("merge:0.5");
        var attention = io.cleave.core.reduce.TokenReduction.parse("attention:0.25");
        float[][] reduced = new float[4][];
        int[] count = new int[4];
        for (int i = 0; i < 4; i++) {
            Tensor t = engine.blocks(engine.stem(image(i)), 0, 2);
            Tensor r = io.cleave.core.reduce.TokenReducer.reduce(engine, 2, t, i < 2 ? merge : attention);
            reduced[i] = r.data();
            count[i] = r.shape()[1];
        }
        assertThat(count).containsExactly(26, 26, 14, 14);
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            // deadlines interleave the counts: EDF alone would batch 26, 14, 26, 14 together
            List<CompletableFuture<Void>> done = new ArrayList<>();
            int[] order = {0, 2, 1, 3};
            for (int k = 0; k < 4; k++) {
                int i = order[k];
                done.add(s.submit(new Job("r" + i, reduced[i], 2, count[i], deadline(clock, 100 + k), exitsAfter(2), sink.listener("r" + i))));
            }
            done.add(s.submit(new Job("full", tokensAfter(4, 2), 2, deadline(clock, 99), exitsAfter(2), sink.listener("full"))));
            s.start();
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        }
        int last = pack.exitCount() - 1;
        for (int i = 0; i < 4; i++) {
            List<Result> rs = sink.of("r" + i);
            assertThat(rs).extracting(r -> r.out.exit()).containsExactlyElementsOf(exitsAfter(2).stream().boxed().toList());
            assertThat(rs).allMatch(r -> r.out.maxBatch() == 2); // with its twin of the same count, never with the others
            Tensor t = engine.blocks(new Tensor(reduced[i], new int[] {1, count[i], pack.manifest().tokens().dim()}), 2, pack.blockCount());
            float[] want = Calibration.probabilities(engine.exit(last, t).data(), 0, pack.classes(), pack.exit(last).temperature());
            float[] got = rs.get(rs.size() - 1).out.probabilities();
            for (int c = 0; c < want.length; c++) {
                assertThat((double) got[c]).isCloseTo(want[c], org.assertj.core.api.Assertions.within(1e-5));
            }
        }
        assertThat(sink.of("full")).allMatch(r -> r.out.maxBatch() == 1);
    }

    @Test
    void skippedBlocks_passTheirTokensOn_andSkippingJobsBatchApartAtThoseBlocks() throws Exception {
        // four jobs share batches from block 3; at blocks 4 and 5 the two that skip them must not be computed with the others
        // (their results would then be the full model's): each job's answer is the engine's with its own blocks
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        io.cleave.core.plan.BlockSkip skip = io.cleave.core.plan.BlockSkip.parse("4,5");
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                done.add(s.submit(new Job("j" + i, tokensAfter(i, 2), 2, 0, i % 2 == 0 ? skip : io.cleave.core.plan.BlockSkip.NONE,
                        deadline(clock, 100 + i), exitsAfter(2), sink.listener("j" + i))));
            }
            s.start();
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        }
        int last = pack.exitCount() - 1;
        for (int i = 0; i < 4; i++) {
            Tensor t = engine.blocks(engine.stem(image(i)), 0, 2);
            for (int k = 3; k <= pack.blockCount(); k++) {
                t = i % 2 == 0 && skip.skips(k) ? t : engine.blocks(t, k - 1, k);
            }
            float[] want = Calibration.probabilities(engine.exit(last, t).data(), 0, pack.classes(), pack.exit(last).temperature());
            List<Result> rs = sink.of("j" + i);
            assertThat(rs).extracting(r -> r.out.exit()).containsExactlyElementsOf(exitsAfter(2).stream().boxed().toList());
            float[] got = rs.get(rs.size() - 1).out.probabilities();
            for (int c = 0; c < want.length; c++) {
                assertThat((double) got[c]).as("job " + i + " class " + c).isCloseTo(want[c], org.assertj.core.api.Assertions.within(1e-5));
            }
        }
        assertThatThrownBy(() -> new LayerScheduler(engine, SchedulerConfig.defaults(), clock).submit(new Job("b", tokensAfter(0, 2), 2, 0,
                io.cleave.core.plan.BlockSkip.parse("2"), deadline(clock, 100), exitsAfter(2), (o, l) -> {})))
                .hasMessageContaining("skips blocks 2: only blocks 3..8 lie ahead");
    }

    @Test
    void aJobWhoseTokensDoNotMatchItsCount_isRefused() {
        ManualClock clock = new ManualClock();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            assertThatThrownBy(() -> s.submit(new Job("x", tokensAfter(0, 2), 2, 26, deadline(clock, 100), exitsAfter(2), (o, l) -> {})))
                    .hasMessageContaining("carries 26 tokens after block 2");
            assertThatThrownBy(() -> s.submit(new Job("y", tokensAfter(0, 2), 2, 50, deadline(clock, 100), exitsAfter(2), (o, l) -> {})))
                    .hasMessageContaining("carries 50 tokens after block 2"); // all of them: not a reduction
        }
    }

    @Test
    void requestsEnteringAtDifferentSplits_shareABatchFromTheBlockWhereTheyMeet() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            // the image job has the earliest deadline: EDF runs it through stem, blocks 1-2 alone, then it
            // meets the two jobs that entered with tokens after block 2
            CompletableFuture<Void> a = s.submit(new Job("a", image(0).data(), 0, deadline(clock, 100), exitsAfter(0), sink.listener("a")));
            CompletableFuture<Void> b = s.submit(new Job("b", tokensAfter(1, 2), 2, deadline(clock, 200), exitsAfter(2), sink.listener("b")));
            CompletableFuture<Void> c = s.submit(new Job("c", tokensAfter(2, 2), 2, deadline(clock, 300), exitsAfter(2), sink.listener("c")));
            s.start();
            CompletableFuture.allOf(a, b, c).get(10, TimeUnit.SECONDS);
        }
        assertThat(sink.of("a")).extracting(r -> r.out.exit()).containsExactlyElementsOf(exitsAfter(0).stream().boxed().toList());
        assertThat(sink.of("a")).filteredOn(r -> r.out.block() <= 2).isNotEmpty()
                .allMatch(r -> r.out.maxBatch() == 1); // exits up to block 2: alone
        for (String id : List.of("a", "b", "c")) {
            List<Result> rs = sink.of(id);
            Result last = rs.get(rs.size() - 1);
            assertThat(last.last).isTrue();
            assertThat(last.out.exit()).isEqualTo(pack.exitCount() - 1);
            // from block 3 on, all three ran together
            assertThat(rs.stream().filter(r -> r.out.block() > 2)).allMatch(r -> r.out.maxBatch() == 3);
        }
        // batched results agree with the engine alone
        int[] image = {0, 1, 2};
        String[] ids = {"a", "b", "c"};
        for (int j = 0; j < 3; j++) {
            for (Result r : sink.of(ids[j])) {
                float[] ref = probs(image[j], r.out.exit());
                assertThat(r.out.predictedClass()).isEqualTo(Calibration.argmax(ref));
                for (int k = 0; k < ref.length; k++) {
                    assertThat(Math.abs(r.out.probabilities()[k] - ref[k])).isLessThan(1e-4f);
                }
            }
        }
    }

    @Test
    void finishedSample_leavesTheBatch_andExitsRunOnlyForSamplesThatWantThem() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        int atBlock4 = pack.firstExitAtOrAfter(4);
        assertThat(pack.exit(atBlock4).afterBlock()).isEqualTo(4);
        BitSet onlyAtBlock4 = new BitSet();
        onlyAtBlock4.set(atBlock4);
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            CompletableFuture<Void> shortJob = s.submit(new Job("short", tokensAfter(3, 2), 2, deadline(clock, 100), onlyAtBlock4, sink.listener("short")));
            CompletableFuture<Void> longJob = s.submit(new Job("long", tokensAfter(4, 2), 2, deadline(clock, 100), exitsAfter(2), sink.listener("long")));
            s.start();
            CompletableFuture.allOf(shortJob, longJob).get(10, TimeUnit.SECONDS);
        }
        assertThat(sink.of("short")).extracting(r -> r.out.exit()).containsExactly(atBlock4);
        assertThat(sink.of("short").get(0).last).isTrue();
        assertThat(sink.of("short").get(0).out.maxBatch()).isEqualTo(2); // blocks 3-4 ran with the long job
        assertThat(sink.of("long")).extracting(r -> r.out.exit()).containsExactlyElementsOf(exitsAfter(2).stream().boxed().toList());
        // maxBatch is the largest batch a result's sample ran in so far: 2, from blocks 3-4 shared with the short job
        assertThat(sink.of("long")).allMatch(r -> r.out.maxBatch() == 2);
    }

    @Test
    void earliestDeadlineFirst_acrossBlockQueues() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults().withMaxBatch(1), clock)) {
            CompletableFuture<Void> late = s.submit(new Job("late", tokensAfter(5, 2), 2, deadline(clock, 500), exitsAfter(2), sink.listener("late")));
            CompletableFuture<Void> urgent = s.submit(new Job("urgent", tokensAfter(6, 4), 4, deadline(clock, 50), exitsAfter(4), sink.listener("urgent")));
            s.start();
            CompletableFuture.allOf(late, urgent).get(10, TimeUnit.SECONDS);
        }
        // the urgent job finishes every exit before the other gets any
        List<String> order = sink.results.stream().map(r -> r.id).toList();
        List<String> expected = new ArrayList<>(Collections.nCopies(exitsAfter(4).cardinality(), "urgent"));
        expected.addAll(Collections.nCopies(exitsAfter(2).cardinality(), "late"));
        assertThat(order).containsExactlyElementsOf(expected);
    }

    @Test
    void expiredJob_isDroppedBeforeCompute_withDeadlineExceeded() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            CompletableFuture<Void> f = s.submit(new Job("x", tokensAfter(7, 2), 2, deadline(clock, 1), exitsAfter(2), sink.listener("x")));
            clock.advance(2, TimeUnit.MILLISECONDS);
            CompletableFuture<Void> next = s.submit(new Job("y", tokensAfter(8, 2), 2, deadline(clock, 100), exitsAfter(2), sink.listener("y")));
            s.start();
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CleaveException.class)
                    .hasMessageContaining("deadline passed before block 3");
            next.get(10, TimeUnit.SECONDS); // and the loop keeps serving
        }
        assertThat(sink.of("x")).isEmpty();
        assertThat(sink.of("y")).hasSize(exitsAfter(2).cardinality());
    }

    @Test
    void jobExpiredAtSubmit_isDeadlineExceeded_notResourceExhausted() {
        ManualClock clock = new ManualClock();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) { // admission control on
            Deadline d = deadline(clock, 1);
            clock.advance(3, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> s.submit(new Job("late", tokensAfter(0, 2), 2, d, exitsAfter(2), (o, l) -> { })))
                    .isInstanceOf(CleaveException.class)
                    .hasMessageContaining("deadline passed 2.00 ms before request late could be queued")
                    .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.DEADLINE_EXCEEDED);
            assertThat(s.queued()).isZero();
        }
    }

    @Test
    void jobWantingAnExitBehindItsSplit_isRefusedAtSubmit() {
        ManualClock clock = new ManualClock();
        BitSet behind = new BitSet();
        behind.set(pack.firstExitAtOrAfter(1)); // the exit after block 1, for tokens that already left block 4
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            assertThatThrownBy(() -> s.submit(new Job("x", tokensAfter(0, 4), 4, deadline(clock, 100), behind, (o, last) -> { })))
                    .isInstanceOf(CleaveException.class)
                    .satisfies(e -> assertThat(((CleaveException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("entering after block 4");
            BitSet beyond = new BitSet();
            beyond.set(pack.exitCount());
            assertThatThrownBy(() -> s.submit(new Job("y", tokensAfter(0, 4), 4, deadline(clock, 100), beyond, (o, last) -> { })))
                    .isInstanceOf(CleaveException.class);
            assertThat(s.queued()).isZero();
        }
    }

    @Test
    void cancelledJob_neverComputes_andTheLoopGoesOn() throws Exception {
        ManualClock clock = new ManualClock();
        Sink sink = new Sink();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            CompletableFuture<Void> f = s.submit(new Job("x", tokensAfter(9, 2), 2, deadline(clock, 100), exitsAfter(2), sink.listener("x")));
            f.cancel(false);
            CompletableFuture<Void> next = s.submit(new Job("y", tokensAfter(10, 2), 2, deadline(clock, 100), exitsAfter(2), sink.listener("y")));
            s.start();
            next.get(10, TimeUnit.SECONDS);
            assertThat(s.queued()).isZero();
        }
        assertThat(sink.of("x")).isEmpty();
    }

    @Test
    void fullQueue_failsFastWithResourceExhausted() {
        ManualClock clock = new ManualClock();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults().withQueueCapacity(2), clock)) {
            for (int i = 0; i < 2; i++) {
                s.submit(new Job("j" + i, tokensAfter(i, 2), 2, deadline(clock, 100), exitsAfter(2), (o, l) -> { }));
            }
            assertThatThrownBy(() -> s.submit(new Job("j2", tokensAfter(2, 2), 2, deadline(clock, 100), exitsAfter(2), (o, l) -> { })))
                    .isInstanceOf(CleaveException.class)
                    .hasMessageContaining("worker queue full (2 requests waiting)")
                    .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
        }
    }

    @Test
    void admissionControl_rejectsAJobThatCannotReachItsFirstExitInTime() {
        ManualClock clock = new ManualClock();
        try (LayerScheduler s = new LayerScheduler(engine, SchedulerConfig.defaults(), clock)) {
            everySegmentTakes(s, 100);
            // 10 ms left, and block 3 alone is predicted at 100 ms
            assertThatThrownBy(() -> s.submit(new Job("tight", tokensAfter(0, 2), 2, deadline(clock, 10), exitsAfter(2), (o, l) -> { })))
                    .isInstanceOf(CleaveException.class)
                    .hasMessageContaining("cannot meet the deadline: first exit predicted in")
                    .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
            CompletableFuture<Void> ok = s.submit(new Job("roomy", tokensAfter(0, 2), 2, deadline(clock, 10_000), exitsAfter(2), (o, l) -> { }));
            assertThat(ok).isNotNull();
        }
    }

    /** A profile as if every segment had been measured at {@code ms} for one sample. */
    static void everySegmentTakes(LayerScheduler s, long ms) {
        for (int seg = 0; seg < Segments.of(pack).count(); seg++) {
            s.profile().record(seg, 1, TimeUnit.MILLISECONDS.toNanos(ms));
        }
    }

    @Test
    void profile_interpolatesBetweenMeasuredBatchSizes() {
        Segments seg = Segments.numbering(8, 4);
        ComputeProfile p = new ComputeProfile(seg, 16);
        int b3 = seg.block(3);
        p.record(b3, 1, 100);
        p.record(b3, 8, 800);
        assertThat(p.predict(b3, 4)).isEqualTo(400.0, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(p.predict(b3, 16)).isEqualTo(1600.0);
        p.record(b3, 1, 200);
        assertThat(p.predict(b3, 1)).isEqualTo(120.0); // EWMA, alpha 0.2
    }

    static Deadline deadline(ManualClock clock, long ms) {
        return Deadline.after(ms, TimeUnit.MILLISECONDS, clock);
    }
}
