package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.cleave.core.data.Dataset;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.BlockSkip;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Source;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Block skipping end to end with real processes: an edge (fixed split 2, FP32) that leaves out block 2 itself and asks
 * the worker to leave out block 5; the cloud's final exit equals the engine alone with those two blocks skipped, and
 * differs from the full model's (the skip took effect on both sides).
 */
class SkippedBlocksTest {
    @Test
    void blocksSkippedOnTheEdgeAndOnTheWorker_giveTheEnginesAnswerWithoutThem() throws Exception {
        ModelPack pack = TestPacks.pack();
        Dataset ds = TestPacks.testSet();
        BlockSkip skip = BlockSkip.parse("2,5");
        int last = pack.exitCount() - 1;
        try (CleaveProcess worker = CleaveProcess.start();
                CleaveProcess edge = CleaveProcess.edge("--k-max", "2", "--worker", worker.target(), "--policy", "fixed", "--split", "2",
                        "--encoding", "FP32", "--skip-blocks", "2,5", "--warm-up-ms", "0");
                SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub stub = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                double differs = 0;
                for (int i = 0; i < 4; i++) {
                    ClassifyResponse r = stub.classify(ClassifyRequest.newBuilder().setRequestId("s" + i).setDeadlineMs(20_000)
                            .setImage(ByteString.copyFrom(ds.image(i))).build());
                    assertThat(r.getSource()).isEqualTo(Source.CLOUD);
                    assertThat(r.getExitIndex()).isEqualTo(last);
                    Tensor t = engine.stem(new Preprocessor(pack).apply(ds.image(i), 1));
                    Tensor full = engine.blocks(t, 0, pack.blockCount());
                    for (int k = 1; k <= pack.blockCount(); k++) {
                        t = skip.skips(k) ? t : engine.blocks(t, k - 1, k);
                    }
                    float[] want = Calibration.probabilities(engine.exit(last, t).data(), 0, pack.classes(), pack.exit(last).temperature());
                    float[] whole = Calibration.probabilities(engine.exit(last, full).data(), 0, pack.classes(), pack.exit(last).temperature());
                    for (int c = 0; c < want.length; c++) {
                        assertThat((double) r.getProbabilities(c)).as("image " + i + " class " + c).isCloseTo(want[c], within(1e-5));
                        differs = Math.max(differs, Math.abs(want[c] - whole[c]));
                    }
                }
                assertThat(differs).as("the skipped model answers differently from the full one").isGreaterThan(1e-3);
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
