package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.data.Dataset;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.reduce.TokenReducer;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.Source;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reduced-token streams end to end with real processes: an edge agent (fixed split, a token reduction) and a worker
 * on the default pack, test images through the edge's device API, in every token encoding. The cloud's final exit
 * must equal the engine alone on what crossed: the tokens after the split, reduced here the same way, through the
 * codec, then the cloud's blocks on that many tokens. The worker refuses a kept count that disagrees with the payload.
 */
class ReducedTokensTest {
    static final int SPLIT = 2;
    static final int IMAGES = 4;
    static ModelPack pack;
    static Dataset ds;
    static CleaveProcess worker;

    @BeforeAll
    static void start() throws Exception {
        pack = TestPacks.pack();
        ds = TestPacks.testSet();
        worker = CleaveProcess.start();
    }

    @AfterAll
    static void stop() throws Exception {
        worker.close();
    }

    static float[] reference(int image, TokenReduction r, Encoding enc) {
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor t = engine.blocks(engine.stem(new Preprocessor(pack).apply(ds.image(image), 1)), 0, SPLIT);
            t = TokenReducer.reduce(engine, SPLIT, t, r);
            int d = pack.manifest().tokens().dim();
            t = new Tensor(TensorCodec.decode(TensorCodec.encode(t.data(), d, enc), t.data().length / d, d, enc), t.shape());
            int last = pack.exitCount() - 1;
            float[] logits = engine.exit(last, engine.blocks(t, SPLIT, pack.blockCount())).data();
            return Calibration.probabilities(logits, 0, logits.length, pack.exit(last).temperature());
        }
    }

    @ParameterizedTest(name = "{0} in {1}")
    @CsvSource({"attention:0.5,FP32", "attention:0.25,FP16", "attention:0.75,INT8", "merge:0.5,FP16", "merge:0.25,INT8",
        "merge:0.75,FP32"})
    void reducedTokens_crossInEveryEncoding_andTheCloudsFinalExitIsTheEnginesOnWhatCrossed(String reduction, Encoding enc)
            throws Exception {
        TokenReduction r = TokenReduction.parse(reduction);
        int tokens = r.tokens(pack.prefixTokens(), pack.manifest().tokens().count());
        int d = pack.manifest().tokens().dim();
        long bytes = TensorCodec.payloadBytes(enc, tokens, d);
        try (CleaveProcess edge = CleaveProcess.edge("--k-max", String.valueOf(SPLIT), "--worker", worker.target(), "--policy", "fixed",
                "--split", String.valueOf(SPLIT), "--encoding", enc.name(), "--reduce-tokens", reduction, "--warm-up-ms", "0")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub stub = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                for (int i = 0; i < IMAGES; i++) {
                    ClassifyResponse res = stub.classify(ClassifyRequest.newBuilder().setRequestId("r" + i).setDeadlineMs(20_000)
                            .setImage(ByteString.copyFrom(ds.image(i))).build());
                    assertThat(res.getSource()).as("image " + i).isEqualTo(Source.CLOUD);
                    assertThat(res.getReason()).isEqualTo("final-exit");
                    assertThat(res.getSplit()).isEqualTo(SPLIT);
                    assertThat(res.getEncoding()).isEqualTo(enc);
                    assertThat(res.getBytesSent()).as("a reduction to " + tokens + " tokens").isEqualTo(bytes);
                    float[] want = reference(i, r, enc);
                    for (int c = 0; c < want.length; c++) {
                        assertThat((double) res.getProbabilities(c)).as("image " + i + " class " + c).isCloseTo(want[c], within(1e-5));
                    }
                }
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void theWorkerProcess_refusesAKeptCountThatDisagreesWithThePayload_andServesOn() throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", worker.port()).usePlaintext().build();
        try {
            int d = pack.manifest().tokens().dim();
            StatusRuntimeException e = null;
            try {
                stream(ch, 26, 30, d).forEachRemaining(x -> {});
            } catch (StatusRuntimeException ex) {
                e = ex;
            }
            assertThat(e).isNotNull();
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("shape [1, 30, 64] does not match [1, 26, 64]");
            List<ExitResult> ok = new java.util.ArrayList<>();
            stream(ch, 26, 26, d).forEachRemaining(ok::add);
            assertThat(ok).extracting(ExitResult::getExitIndex).containsExactly(2, 3, 4, 5);
        } finally {
            ch.shutdownNow();
        }
    }

    /** One stream of zero tokens after block 2: {@code kept} in the header, {@code shape} tokens in the shape and payload. */
    static Iterator<ExitResult> stream(ManagedChannel ch, int kept, int shape, int d) throws Exception {
        java.util.concurrent.LinkedBlockingQueue<Object> q = new java.util.concurrent.LinkedBlockingQueue<>();
        var call = InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).infer(new io.grpc.stub.StreamObserver<>() {
            public void onNext(ExitResult r) {
                q.add(r);
            }

            public void onError(Throwable t) {
                q.add(t);
            }

            public void onCompleted() {
                q.add("done");
            }
        });
        byte[] b = TensorCodec.encode(new float[shape * d], d, Encoding.FP32);
        call.onNext(InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("k").setModelId(pack.id()).setSplit(SPLIT)
                .setEncoding(Encoding.FP32).addAllShape(List.of(1, shape, d)).setKeptTokens(kept).setDeadlineBudgetUs(5_000_000)
                .setPayloadBytes(b.length)).build());
        call.onNext(InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(b))).build());
        call.onCompleted();
        List<ExitResult> got = new java.util.ArrayList<>();
        for (Object o; ; ) {
            o = q.poll(10, TimeUnit.SECONDS);
            if (o instanceof ExitResult r) {
                got.add(r);
            } else if (o instanceof StatusRuntimeException s) {
                throw s;
            } else if (o instanceof Throwable t) {
                throw new AssertionError(t);
            } else {
                return got.iterator();
            }
        }
    }
}
