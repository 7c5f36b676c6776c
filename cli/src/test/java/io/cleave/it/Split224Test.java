package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.image.ImageDecoder;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestImages;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.Source;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The split path at 224x224, with real processes: a worker and an edge agent on a pack of the
 * realistic input geometry (224x224 RGB, patch 16: 197 tokens; 32 wide, 4 blocks, so it can be
 * committed), photos sent to the edge's device API as JPEG/PNG bytes, offloaded at a fixed split in
 * each wire encoding. The cloud's final exit must equal the engine alone on what crosses the wire:
 * the JPEG the edge sends (encoded and decoded here the same way), or the tokens after the split
 * through the codec.
 */
class Split224Test {
    static final int QUALITY = 80;
    static final List<String> PHOTOS = List.of("rocket.jpg", "chelsea.png");
    static Path packDir;
    static ModelPack pack;
    static CleaveProcess worker;

    @BeforeAll
    static void start() throws Exception {
        packDir = TestImages.resource("packs/tiny-vit224");
        pack = ModelPack.load(packDir);
        assertThat(pack.manifest().input().shape()).containsExactly(3, 224, 224);
        worker = CleaveProcess.worker(packDir);
    }

    @AfterAll
    static void stop() throws Exception {
        worker.close();
    }

    /** The final exit's calibrated probabilities, computed here from what the worker receives. */
    static float[] reference(byte[] photo, int split, Encoding enc) {
        Preprocessor pre = new Preprocessor(pack);
        byte[] px = pre.pixels(ImageDecoder.decode(photo));
        int last = pack.exitCount() - 1;
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor t;
            if (split == 0) {
                float[] wire = enc == Encoding.JPEG ? JpegCodec.decode(JpegCodec.encode(px, 3, 224, 224, QUALITY), 3, 224, 224)
                        : pre.apply(px, 1).data();
                t = engine.stem(enc == Encoding.JPEG ? pre.apply(wire, 1) : new Tensor(wire, new int[] {1, 3, 224, 224}));
            } else {
                t = engine.blocks(engine.stem(pre.apply(px, 1)), 0, split);
                int d = pack.manifest().tokens().dim();
                t = new Tensor(TensorCodec.decode(TensorCodec.encode(t.data(), d, enc), t.data().length / d, d, enc), t.shape());
            }
            t = engine.blocks(t, split, pack.blockCount());
            float[] logits = engine.exit(last, t).data();
            return Calibration.probabilities(logits, 0, logits.length, pack.exit(last).temperature());
        }
    }

    @ParameterizedTest(name = "split {0}, {1}")
    @CsvSource({"0,JPEG,0", "0,U8_IMAGE,150528", "1,FP32,25216", "1,FP16,12608", "2,INT8,7092"})
    void photos_cross_atEachSplitAndEncoding_andTheCloudsFinalExitIsTheEnginesOnWhatCrossed(int split, Encoding enc, long bytes)
            throws Exception {
        try (CleaveProcess edge = CleaveProcess.edge(packDir, "--k-max", "2", "--worker", worker.target(), "--policy", "fixed",
                "--split", String.valueOf(split), "--encoding", enc.name(), "--jpeg-quality", String.valueOf(QUALITY),
                "--warm-up-ms", "0")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub stub = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                for (String name : PHOTOS) {
                    byte[] photo = TestImages.bytes("images/" + name);
                    ClassifyResponse r = stub.classify(ClassifyRequest.newBuilder().setRequestId(name).setDeadlineMs(20_000)
                            .setEncodedImage(ByteString.copyFrom(photo)).build());
                    assertThat(r.getSource()).as(name).isEqualTo(Source.CLOUD);
                    assertThat(r.getReason()).as(name).isEqualTo("final-exit");
                    assertThat(r.getExitIndex()).isEqualTo(pack.exitCount() - 1);
                    assertThat(r.getSplit()).isEqualTo(split);
                    assertThat(r.getEncoding()).isEqualTo(enc);
                    if (enc == Encoding.JPEG) { // a photo's size: far below the 150,528 raw bytes
                        assertThat(r.getBytesSent()).as(name).isBetween(1_000L, 150_528L / 4);
                        assertThat(r.getBytesSent()).isEqualTo(JpegCodec.encode(new Preprocessor(pack).pixels(ImageDecoder.decode(photo)),
                                3, 224, 224, QUALITY).length);
                    } else {
                        assertThat(r.getBytesSent()).isEqualTo(bytes);
                    }
                    float[] want = reference(photo, split, enc);
                    if (enc == Encoding.JPEG) { // the tolerance below tells the JPEG's pixels from the raw ones
                        float[] raw = reference(photo, 0, Encoding.U8_IMAGE);
                        double diff = 0;
                        for (int c = 0; c < raw.length; c++) {
                            diff = Math.max(diff, Math.abs(raw[c] - want[c]));
                        }
                        assertThat(diff).as(name + ": JPEG vs raw reference").isGreaterThan(1e-4);
                    }
                    assertThat(r.getProbabilitiesCount()).isEqualTo(want.length);
                    for (int c = 0; c < want.length; c++) {
                        assertThat((double) r.getProbabilities(c)).as(name + " class " + c).isCloseTo(want[c],
                                org.assertj.core.api.Assertions.within(1e-5));
                    }
                }
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
