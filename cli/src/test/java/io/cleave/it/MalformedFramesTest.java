package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.RawFrames;
import io.cleave.core.testing.RecordingCall;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Malformed streams get precise status codes and messages; the worker keeps serving. */
class MalformedFramesTest {
    static CleaveProcess worker;
    static ManagedChannel channel;
    static ModelPack pack;
    static int tokens;
    static int dim;

    @BeforeAll
    static void start() throws Exception {
        pack = TestPacks.pack();
        tokens = pack.manifest().tokens().count();
        dim = pack.manifest().tokens().dim();
        worker = CleaveProcess.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", worker.port()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow();
        worker.close();
    }

    record Reply(List<ExitResult> results, Status status) {}

    static Reply call(List<InferFrame> frames) throws Exception {
        RecordingCall<InferFrame, ExitResult> c = new RecordingCall<>();
        InferenceWorkerGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).infer(c);
        frames.forEach(c.req::onNext);
        c.req.onCompleted();
        return new Reply(c.results, c.end.get(20, TimeUnit.SECONDS));
    }

    static InferHeader.Builder header(int split, Encoding enc, long payload) {
        InferHeader.Builder h = InferHeader.newBuilder().setRequestId("m").setModelId(pack.id()).setModelVersion(pack.version())
                .setSplit(split).setEncoding(enc).setDeadlineBudgetUs(5_000_000).setPayloadBytes(payload);
        if (split == 0) {
            h.addAllShape(List.of(1, 1, 28, 28));
        } else {
            h.addAllShape(List.of(1, tokens, dim));
        }
        return h;
    }

    static InferFrame frame(InferHeader.Builder h) {
        return InferFrame.newBuilder().setHeader(h).build();
    }

    static InferFrame chunk(byte[] b) {
        return InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(b))).build();
    }

    static byte[] tokens(Encoding enc, float value) {
        float[] t = new float[tokens * dim];
        java.util.Arrays.fill(t, value);
        return TensorCodec.encode(t, dim, enc);
    }

    /** Exit indices from {@code first} to the final exit. */
    static List<Integer> exitsFrom(int first) {
        return java.util.stream.IntStream.range(first, pack.exitCount()).boxed().toList();
    }

    /** After every bad request, a good one is answered with every exit after its split. */
    static void assertStillServing() throws Exception {
        byte[] good = tokens(Encoding.FP16, 0.25f);
        Reply r = call(List.of(frame(header(2, Encoding.FP16, good.length)), chunk(good)));
        assertThat(r.status().getCode()).isEqualTo(Status.Code.OK);
        assertThat(r.results()).extracting(ExitResult::getExitIndex).containsExactlyElementsOf(exitsFrom(pack.firstExitAtOrAfter(3)));
        assertThat(r.results().get(r.results().size() - 1).getLast()).isTrue();
    }

    static void expect(List<InferFrame> frames, Status.Code code, String message) throws Exception {
        Reply r = call(frames);
        assertThat(r.status().getCode()).as(message).isEqualTo(code);
        assertThat(r.status().getDescription()).contains(message);
        assertThat(r.results()).isEmpty();
        assertStillServing();
    }

    @Test
    void wrongShape() throws Exception {
        byte[] b = tokens(Encoding.FP32, 1f);
        InferHeader.Builder h = header(2, Encoding.FP32, b.length).clearShape().addAllShape(List.of(1, tokens, dim / 2));
        expect(List.of(frame(h), chunk(b)), Status.Code.INVALID_ARGUMENT,
                "shape [1, " + tokens + ", " + dim / 2 + "] does not match [1, " + tokens + ", " + dim + "] expected at split 2");
    }

    @Test
    void wrongDtype() throws Exception {
        expect(List.of(frame(header(3, Encoding.U8_IMAGE, tokens * dim))), Status.Code.INVALID_ARGUMENT,
                "U8_IMAGE is only valid at split 0");
        expect(List.of(frame(header(3, Encoding.ENCODING_UNSPECIFIED, 10))), Status.Code.INVALID_ARGUMENT,
                "tensor encoding is missing or unknown");
        expect(List.of(frame(header(3, Encoding.FP16, 123))), Status.Code.INVALID_ARGUMENT,
                "payload_bytes 123 does not match " + 2 * tokens * dim);
    }

    @Test
    void badJpegInputs() throws Exception {
        byte[] px = TestPacks.testSet().image(0);
        byte[] jpeg = io.cleave.core.codec.JpegCodec.encode(px, 1, 28, 28, 90);
        expect(List.of(frame(header(3, Encoding.JPEG, jpeg.length))), Status.Code.INVALID_ARGUMENT, "JPEG is only valid at split 0");
        long max = io.cleave.core.codec.JpegCodec.maxBytes(28 * 28);
        expect(List.of(frame(header(0, Encoding.JPEG, max + 1))), Status.Code.INVALID_ARGUMENT,
                "payload_bytes " + (max + 1) + " for a JPEG input of [1, 1, 28, 28] must be 1 to " + max);
        byte[] garbage = "certainly not a JPEG".getBytes();
        expect(List.of(frame(header(0, Encoding.JPEG, garbage.length)), chunk(garbage)), Status.Code.INVALID_ARGUMENT,
                "does not start with a JPEG signature");
        byte[] cut = java.util.Arrays.copyOf(jpeg, jpeg.length / 2);
        expect(List.of(frame(header(0, Encoding.JPEG, cut.length)), chunk(cut)), Status.Code.INVALID_ARGUMENT, "undecodable jpeg image");
        byte[] big = io.cleave.core.codec.JpegCodec.encode(new byte[56 * 56], 1, 56, 56, 90);
        expect(List.of(frame(header(0, Encoding.JPEG, big.length)), chunk(big)), Status.Code.INVALID_ARGUMENT,
                "JPEG payload for a 28x28 input");
        byte[] colour = io.cleave.core.codec.JpegCodec.encode(new byte[3 * 28 * 28], 3, 28, 28, 90);
        expect(List.of(frame(header(0, Encoding.JPEG, colour.length)), chunk(colour)), Status.Code.INVALID_ARGUMENT,
                "this pack takes grayscale");
    }

    @Test
    void jpegInputAtSplitZero_isServed_asTheEngineOnTheDecodedPixels() throws Exception {
        byte[] px = TestPacks.testSet().image(0);
        byte[] jpeg = io.cleave.core.codec.JpegCodec.encode(px, 1, 28, 28, 50);
        Reply r = call(List.of(frame(header(0, Encoding.JPEG, jpeg.length)), chunk(jpeg)));
        assertThat(r.status().getCode()).isEqualTo(Status.Code.OK);
        byte[] back = io.cleave.core.codec.JpegCodec.decodePixels(jpeg, 1, 28, 28);
        io.cleave.core.data.Dataset one = new io.cleave.core.data.Dataset(back, new int[] {0}, 28, 28);
        try (io.cleave.core.engine.SegmentEngine engine = io.cleave.core.engine.SegmentEngine.open(pack,
                io.cleave.core.engine.EngineOptions.defaults())) {
            int[][] ref = new io.cleave.core.eval.ExitEvaluator(engine).predictions(one, 1, 1);
            assertThat(r.results()).extracting(ExitResult::getPredictedClass)
                    .containsExactlyElementsOf(java.util.Arrays.stream(ref).map(exit -> exit[0]).toList());
        }
        assertStillServing();
    }

    @Test
    void truncatedPayload() throws Exception {
        byte[] b = tokens(Encoding.FP32, 1f);
        expect(List.of(frame(header(2, Encoding.FP32, b.length)), chunk(java.util.Arrays.copyOf(b, b.length - 100))),
                Status.Code.INVALID_ARGUMENT, "truncated payload: stream ended after " + (b.length - 100) + " of " + b.length + " bytes");
    }

    @Test
    void payloadOverrun() throws Exception {
        // the worker starts as soon as the declared bytes are in, so results may precede the error
        byte[] b = tokens(Encoding.FP16, 1f);
        Reply r = call(List.of(frame(header(2, Encoding.FP16, b.length)), chunk(b), chunk(new byte[8])));
        assertThat(r.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(r.status().getDescription()).contains("payload overruns the declared " + b.length + " bytes");
        assertStillServing();
    }

    @Test
    void payloadOverrunWithinOneChunk_isRefusedBeforeCompute() throws Exception {
        byte[] b = tokens(Encoding.FP16, 1f);
        expect(List.of(frame(header(2, Encoding.FP16, b.length)), chunk(java.util.Arrays.copyOf(b, b.length + 8))),
                Status.Code.INVALID_ARGUMENT, "payload overruns the declared " + b.length + " bytes (got " + (b.length + 8) + ")");
    }

    @Test
    void unknownModelOrVersion() throws Exception {
        expect(List.of(frame(header(2, Encoding.FP16, 2L * tokens * dim).setModelId("resnet-50"))), Status.Code.NOT_FOUND,
                "model 'resnet-50' is not served here");
        expect(List.of(frame(header(2, Encoding.FP16, 2L * tokens * dim).setModelVersion("9.9.9"))), Status.Code.NOT_FOUND,
                "version '9.9.9' is not served here");
    }

    @Test
    void splitOutOfRange() throws Exception {
        int blocks = pack.blockCount();
        expect(List.of(frame(header(blocks, Encoding.FP16, 2L * tokens * dim))), Status.Code.INVALID_ARGUMENT,
                "split " + blocks + " out of range: must be 0 (input) to " + (blocks - 1));
        expect(List.of(frame(header(-1, Encoding.FP16, 2L * tokens * dim))), Status.Code.INVALID_ARGUMENT, "split -1 out of range");
    }

    @Test
    void oversizedMessage() throws Exception {
        // one frame larger than the worker's 1 MiB inbound limit: gRPC refuses it
        Reply r = call(List.of(frame(header(2, Encoding.FP32, 4L * tokens * dim)), chunk(new byte[2 << 20])));
        assertThat(r.status().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(r.status().getDescription()).contains("exceeds maximum");
        assertStillServing();
    }

    @Test
    void bytesThatAreNotAFrame_areInvalidArgument_withTheParsersMessage() throws Exception {
        byte[] wire = chunk(new byte[100]).toByteArray();
        RecordingCall<byte[], ExitResult> c = RawFrames.infer(channel);
        c.req.onNext(java.util.Arrays.copyOf(wire, wire.length - 10)); // the chunk's bytes end early
        c.req.onCompleted();
        Status s = c.end.get(20, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).isEqualTo("invalid InferFrame: While parsing a protocol message, the input ended unexpectedly"
                + " in the middle of a field.  This could mean either that the input has been truncated or that an embedded message"
                + " misreported its own length.");
        assertThat(c.results).isEmpty();
        assertStillServing();
    }

    @Test
    void nanTokens() throws Exception {
        float[] t = new float[tokens * dim];
        t[5 * dim + 7] = Float.NaN;
        byte[] b = TensorCodec.encode(t, dim, Encoding.FP32);
        expect(List.of(frame(header(2, Encoding.FP32, b.length)), chunk(b)), Status.Code.INVALID_ARGUMENT,
                "value " + (5 * dim + 7) + " (row 5) is NaN");
    }

    @Test
    void framesOutOfOrder() throws Exception {
        expect(List.of(chunk(new byte[4])), Status.Code.INVALID_ARGUMENT, "payload chunk before the header");
        expect(List.of(InferFrame.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "empty frame");
        expect(List.of(), Status.Code.INVALID_ARGUMENT, "stream ended without a header");
        byte[] b = tokens(Encoding.FP16, 1f);
        expect(List.of(frame(header(2, Encoding.FP16, b.length)), frame(header(2, Encoding.FP16, b.length))),
                Status.Code.INVALID_ARGUMENT, "a second header on one stream");
    }

    @Test
    void expiredBudget() throws Exception {
        expect(List.of(frame(header(2, Encoding.FP16, 2L * tokens * dim).setDeadlineBudgetUs(0))), Status.Code.DEADLINE_EXCEEDED,
                "already expired");
    }

    @Test
    void rawImageAtSplitZero_isServed_andHealthSaysServing() throws Exception {
        byte[] px = TestPacks.testSet().image(0);
        Reply r = call(List.of(frame(header(0, Encoding.U8_IMAGE, px.length)), chunk(px)));
        assertThat(r.status().getCode()).isEqualTo(Status.Code.OK);
        assertThat(r.results()).extracting(ExitResult::getExitIndex).containsExactlyElementsOf(exitsFrom(0));
        try (io.cleave.core.engine.SegmentEngine engine = io.cleave.core.engine.SegmentEngine.open(pack,
                io.cleave.core.engine.EngineOptions.defaults())) {
            int[][] ref = new io.cleave.core.eval.ExitEvaluator(engine).predictions(TestPacks.testSet(), 1, 1);
            assertThat(r.results()).extracting(ExitResult::getPredictedClass)
                    .containsExactlyElementsOf(java.util.Arrays.stream(ref).map(exit -> exit[0]).toList());
        }
        HealthCheckResponse h = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder()
                .setService("cleave.v1.InferenceWorker").build());
        assertThat(h.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
}
