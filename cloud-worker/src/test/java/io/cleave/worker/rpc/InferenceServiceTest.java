package io.cleave.worker.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.RawFrames;
import io.cleave.core.testing.RecordingCall;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.NanoClock;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.TensorChunk;
import io.cleave.worker.batch.LayerScheduler;
import io.cleave.worker.batch.SchedulerConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The worker's gRPC handler over in-process transport: cancellation, admission, queue limits. */
class InferenceServiceTest {
    static ModelPack pack;
    static SegmentEngine engine;
    LayerScheduler scheduler;
    Server server;
    ManagedChannel channel;

    @BeforeAll
    static void load() {
        pack = TestPacks.pack();
        engine = SegmentEngine.open(pack, EngineOptions.defaults());
    }

    void start(SchedulerConfig config, boolean runLoop) throws Exception {
        scheduler = new LayerScheduler(engine, config, NanoClock.SYSTEM);
        if (runLoop) {
            scheduler.start();
        }
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new InferenceService(pack, scheduler, NanoClock.SYSTEM, 1 << 24, engine.target()).definition()).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        if (channel == null) { // a test of the assembler alone
            return;
        }
        channel.shutdownNow();
        server.shutdownNow();
        scheduler.close();
    }

    RecordingCall<InferFrame, ExitResult> send(long budgetUs) {
        float[] tokens = new float[pack.manifest().tokens().size()];
        byte[] b = TensorCodec.encode(tokens, pack.manifest().tokens().dim(), Encoding.FP16);
        RecordingCall<InferFrame, ExitResult> c = new RecordingCall<>();
        InferenceWorkerGrpc.newStub(channel).infer(c);
        c.req.onNext(InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("x").setModelId(pack.id())
                .setSplit(2).setEncoding(Encoding.FP16).addAllShape(List.of(1, pack.manifest().tokens().count(), pack.manifest().tokens().dim()))
                .setDeadlineBudgetUs(budgetUs).setPayloadBytes(b.length)).build());
        c.req.onNext(InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(b))).build());
        c.req.onCompleted();
        return c;
    }

    RecordingCall<InferFrame, ExitResult> sendReduced(int split, int keptTokens, int shapeTokens, float[] tokens) {
        int d = pack.manifest().tokens().dim();
        byte[] b = TensorCodec.encode(tokens, d, Encoding.FP32);
        RecordingCall<InferFrame, ExitResult> c = new RecordingCall<>();
        InferenceWorkerGrpc.newStub(channel).infer(c);
        c.req.onNext(InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("r").setModelId(pack.id())
                .setSplit(split).setEncoding(split == 0 ? Encoding.U8_IMAGE : Encoding.FP32)
                .addAllShape(split == 0 ? List.of(1, 1, 28, 28) : List.of(1, shapeTokens, d)).setKeptTokens(keptTokens)
                .setDeadlineBudgetUs(5_000_000).setPayloadBytes(b.length)).build());
        c.req.onNext(InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(b))).build());
        c.req.onCompleted();
        return c;
    }

    @Test
    void reducedTokens_runTheCloudBlocksOnWhatArrived() throws Exception {
        start(SchedulerConfig.defaults(), true);
        Tensor full = engine.blocks(engine.stem(new io.cleave.core.engine.Preprocessor(pack).apply(TestPacks.testSet().image(0), 1)), 0, 3);
        Tensor kept = io.cleave.core.reduce.TokenReducer.reduce(engine, 3, full, io.cleave.core.reduce.TokenReduction.parse("attention:0.5"));
        RecordingCall<InferFrame, ExitResult> c = sendReduced(3, 26, 26, kept.data());
        assertThat(c.end.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        assertThat(c.results).extracting(ExitResult::getExitIndex).containsExactly(3, 4, 5);
        int last = pack.exitCount() - 1;
        float[] want = io.cleave.core.engine.Calibration.probabilities(engine.exit(last, engine.blocks(kept, 3, pack.blockCount())).data(), 0,
                pack.classes(), pack.exit(last).temperature());
        for (int k = 0; k < want.length; k++) {
            assertThat((double) c.results.get(2).getProbabilities(k)).isCloseTo(want[k], org.assertj.core.api.Assertions.within(1e-5));
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "kept count and shape disagree|3|26|30|shape [1, 30, 64] does not match [1, 26, 64]",
        "every token is no reduction|3|50|50|kept_tokens 50 out of range: 2 (the class token and one more) to 49",
        "the class token alone|3|1|1|kept_tokens 1 out of range",
        "the input is not tokens|0|26|26|kept_tokens 26 at split 0",
        "negative|3|-4|26|kept_tokens -4 out of range"})
    void anInconsistentKeptCount_isInvalidArgument_andTheWorkerServesOn(String what, int split, int kept, int shape, String message)
            throws Exception {
        start(SchedulerConfig.defaults(), true);
        RecordingCall<InferFrame, ExitResult> c = sendReduced(split, kept, shape, new float[Math.max(1, shape) * 64]);
        Status s = c.end.get(5, TimeUnit.SECONDS);
        assertThat(s.getCode()).as(what).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).as(what).contains(message);
        assertThat(c.results).isEmpty();
        assertThat(send(5_000_000).end.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    }

    static InferHeader reducedHeader(ModelPack p, int kept, int... exits) {
        int d = p.manifest().tokens().dim();
        InferHeader.Builder h = InferHeader.newBuilder().setRequestId("f").setModelId(p.id()).setSplit(1).setEncoding(Encoding.FP32)
                .addAllShape(List.of(1, kept, d)).setKeptTokens(kept).setDeadlineBudgetUs(1_000_000).setPayloadBytes(4L * kept * d);
        for (int e : exits) {
            h.addExits(e);
        }
        return h.build();
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"3", "2,4", "5,4", "4,4", "9"})
    void skipBlocks_notAfterTheSplitOrNotAscending_areInvalidArgument(String blocks) {
        InferHeader.Builder h = reducedHeader(pack, 50).toBuilder().setKeptTokens(0).setSplit(3);
        for (String b : blocks.split(",")) {
            h.addSkipBlocks(Integer.parseInt(b));
        }
        assertThatThrownBy(() -> new StreamAssembler(h.build(), pack, 1 << 24))
                .hasMessageContaining("each must be after split 3 and at most 8, ascending, no repeats");
        assertThat(new StreamAssembler(reducedHeader(pack, 50).toBuilder().setKeptTokens(0).setSplit(3).addSkipBlocks(4)
                .addSkipBlocks(8).build(), pack, 1 << 24).header().getSkipBlocksCount()).isEqualTo(2);
    }

    @Test
    void aKeptCount_forAPackWithFixedTokenGraphs_isRefused() {
        ModelPack fixed = ModelPack.load(io.cleave.core.testing.TestImages.resource("packs/tiny-exit-types"));
        assertThatThrownBy(() -> new StreamAssembler(reducedHeader(fixed, fixed.manifest().tokens().count() / 2), fixed, 1 << 24))
                .hasMessageContaining("is not reducible here");
    }

    @Test
    void aKeptCount_withAnExitThatNeedsEveryToken_isRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        // the default pack's exits all read tokens as a set; a copy whose block-4 exit says it needs every token (as CNN exits do)
        java.nio.file.Path dir = TestPacks.copyPack(tmp.resolve("pack"));
        java.nio.file.Path manifest = dir.resolve("manifest.json");
        com.google.gson.JsonObject m = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(manifest)).getAsJsonObject();
        m.getAsJsonArray("exits").get(3).getAsJsonObject().addProperty("reducedTokens", false);
        java.nio.file.Files.writeString(manifest, m.toString());
        ModelPack p = ModelPack.load(dir);
        assertThatThrownBy(() -> new StreamAssembler(reducedHeader(p, 26, 3, 5), p, 1 << 24))
                .hasMessageContaining("exit 3 (vit) needs all 50 tokens; it is unavailable after a reduction to 26");
        assertThat(new StreamAssembler(reducedHeader(p, 26, 4, 5), p, 1 << 24).header().getKeptTokens()).isEqualTo(26);
    }

    @Test
    void cancelByTheEdge_removesTheJobBeforeItIsComputed() throws Exception {
        start(SchedulerConfig.defaults(), false);
        RecordingCall<InferFrame, ExitResult> c = send(5_000_000);
        assertThat(scheduler.queued()).isEqualTo(1);
        c.req.cancel("answered locally", null);
        assertThat(c.end.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        scheduler.start();
        RecordingCall<InferFrame, ExitResult> next = send(5_000_000); // the loop runs, skips the cancelled job, serves the next
        assertThat(next.end.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        assertThat(c.results).isEmpty();
        assertThat(next.results).hasSize(pack.exitCount() - pack.firstExitAtOrAfter(3)); // every exit after the split
        assertThat(scheduler.queued()).isZero();
    }

    @Test
    void requestThatExpiresInTheQueue_endsWithDeadlineExceeded_withoutCompute() throws Exception {
        start(SchedulerConfig.defaults().withAdmissionControl(false), false);
        // 30 ms: enough to reach the queue on a loaded machine (at 2 ms a CI run expired it on the way in, which is
        // DEADLINE_EXCEEDED at submit, another path), and long gone after 200 ms in the queue
        RecordingCall<InferFrame, ExitResult> c = send(30_000);
        assertThat(scheduler.queued()).as("queued, not refused at submit").isEqualTo(1);
        Thread.sleep(200);
        scheduler.start();
        Status s = c.end.get(5, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(s.getDescription()).contains("deadline passed before block 3");
        assertThat(c.results).isEmpty();
    }

    @Test
    void fullQueue_isRefusedAtOnceWithResourceExhausted() throws Exception {
        start(SchedulerConfig.defaults().withQueueCapacity(1), false);
        send(5_000_000);
        RecordingCall<InferFrame, ExitResult> refused = send(5_000_000);
        Status s = refused.end.get(5, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).contains("worker queue full (1 requests waiting)");
    }

    @Test
    void admissionControl_refusesWhatCannotBeDoneInTime() throws Exception {
        start(SchedulerConfig.defaults(), false);
        for (int seg = 0; seg < io.cleave.core.pack.Segments.of(pack).count(); seg++) {
            scheduler.profile().record(seg, 1, TimeUnit.MILLISECONDS.toNanos(100)); // as if each segment took 100 ms
        }
        scheduler.start();
        Status s = send(10_000).end.get(5, TimeUnit.SECONDS); // 10 ms: time to arrive, not to compute
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).contains("cannot meet the deadline");
        assertThat(send(5_000_000).end.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    }

    @Test
    void bytesThatAreNotAFrame_areInvalidArgument_withTheParsersMessage_andTheWorkerServesOn() throws Exception {
        start(SchedulerConfig.defaults(), true);
        byte[] frame = InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(new byte[100]))).build()
                .toByteArray();
        RecordingCall<byte[], ExitResult> c = RawFrames.infer(channel);
        c.req.onNext(java.util.Arrays.copyOf(frame, frame.length - 10)); // the chunk's bytes end early
        Status s = c.end.get(5, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).startsWith("invalid InferFrame: While parsing a protocol message, the input ended unexpectedly");
        assertThat(send(5_000_000).end.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    }

    @Test
    void budgetSpentWhileThePayloadArrives_isDeadlineExceeded_notResourceExhausted() throws Exception {
        start(SchedulerConfig.defaults(), false);
        scheduler.calibrate(1);
        scheduler.start();
        float[] tokens = new float[pack.manifest().tokens().size()];
        byte[] b = TensorCodec.encode(tokens, pack.manifest().tokens().dim(), Encoding.FP16);
        RecordingCall<InferFrame, ExitResult> c = new RecordingCall<>();
        InferenceWorkerGrpc.newStub(channel).infer(c);
        c.req.onNext(InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("slow").setModelId(pack.id())
                .setSplit(2).setEncoding(Encoding.FP16).addAllShape(List.of(1, pack.manifest().tokens().count(), pack.manifest().tokens().dim()))
                .setDeadlineBudgetUs(2_000).setPayloadBytes(b.length)).build());
        Thread.sleep(20); // the 2 ms budget runs out before the payload is in
        c.req.onNext(InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(b))).build());
        c.req.onCompleted();
        Status s = c.end.get(5, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(s.getDescription()).contains("before request slow could be queued");
        assertThat(c.results).isEmpty();
    }
}
