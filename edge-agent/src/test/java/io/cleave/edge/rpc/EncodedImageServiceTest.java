package io.cleave.edge.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.testing.TestImages;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.image.ImageLimits;
import io.cleave.edge.image.PreparedImage;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.RankedClass;
import io.cleave.proto.v1.Source;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JPEG and PNG bytes through the device API (ClassifyRequest.encoded_image), over real gRPC on
 * loopback, to edge-only agents holding the imported tiny packs (version 2: RGB 32x32, resize and
 * crop in their manifests) and the default Fashion-MNIST pack (version 1: 28x28 grayscale).
 */
class EncodedImageServiceTest {
    static final List<String> PACKS = List.of("tiny-deit", "tiny-torchvision", "fmnist");
    static final Map<String, EdgeServer> edges = new HashMap<>();
    static final Map<String, ManagedChannel> channels = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        for (String name : PACKS) {
            Path dir = name.equals("fmnist") ? TestPacks.packDir() : TestImages.resource("packs/" + name);
            int blocks = ModelPack.load(dir).blockCount();
            // every block local, never confident early: each answer comes from the final exit
            EdgeConfig cfg = EdgeConfig.builder(dir).kMax(blocks).concurrency(1).shutdownGraceMillis(1000).policy(PolicyRegistry.FIXED)
                    .warmUpMillis(0).build();
            EdgeServer edge = EdgeServer.start(cfg, null, true);
            edges.put(name, edge);
            channels.put(name, NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build());
        }
    }

    @AfterAll
    static void stop() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        edges.values().forEach(EdgeServer::close);
    }

    static EdgeAgentGrpc.EdgeAgentBlockingStub stub(String pack) {
        return EdgeAgentGrpc.newBlockingStub(channels.get(pack));
    }

    static ClassifyRequest encoded(byte[] bytes) {
        return ClassifyRequest.newBuilder().setEncodedImage(ByteString.copyFrom(bytes)).setDeadlineMs(5000).build();
    }

    /** ClassifyResponse.untrained: set on every answer from a pack whose manifest says "trained": false, never on the trained default pack's. */
    @ParameterizedTest
    @CsvSource({"tiny-deit,true", "tiny-torchvision,true", "fmnist,false"})
    void untrainedPack_isFlaggedInTheAnswer(String packName, boolean untrained) {
        assertThat(edges.get(packName).agent().pack().trained()).isEqualTo(!untrained);
        ClassifyResponse r = stub(packName).classify(encoded(TestImages.bytes("images/rocket.jpg")).toBuilder().setRequestId("t").build());
        assertThat(r.getUntrained()).isEqualTo(untrained);
        int pixels = edges.get(packName).agent().pack().manifest().input().size();
        ClassifyResponse raw = stub(packName).classify(ClassifyRequest.newBuilder().setRequestId("raw")
                .setImage(ByteString.copyFrom(new byte[pixels])).setDeadlineMs(5000).build());
        assertThat(raw.getUntrained()).isEqualTo(untrained);
    }

    @ParameterizedTest
    @CsvSource({"tiny-deit,rocket.jpg,0", "tiny-deit,chelsea.png,1", "tiny-torchvision,rocket.jpg,0", "tiny-torchvision,chelsea.png,1"})
    void photo_answersAsTheEngineAloneDoesOnTheSamePreprocessedTensor(String packName, String photo, int goldenIndex) {
        ModelPack pack = edges.get(packName).agent().pack();
        byte[] bytes = TestImages.bytes("images/" + photo);
        ClassifyResponse r = stub(packName).classify(encoded(bytes).toBuilder().setRequestId(photo).setTopK(5).build());

        // the engine alone, on the pack's preprocessing of the same bytes
        Tensor x = new Preprocessor(pack).image(bytes);
        assertThat(x.data()).as("the Python side's input for %s", photo).containsExactly(golden(pack, "photo_input").sample(goldenIndex).data());
        int last = pack.exitCount() - 1;
        float[] want;
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor logits = engine.exit(last, engine.blocks(engine.stem(x), 0, pack.blockCount()));
            want = Calibration.probabilities(logits.data(), 0, pack.classes(), pack.manifest().exits().get(last).temperature());
        }
        int argmax = argmax(want);
        assertThat(argmax).as("the source model's own top-1").isEqualTo(argmax(golden(pack, "photo_source_logits").sample(goldenIndex).data()));

        assertThat(r.getRequestId()).isEqualTo(photo);
        assertThat(r.getExitIndex()).isEqualTo(last);
        assertThat(r.getSource()).isEqualTo(Source.LOCAL);
        assertThat(r.getPredictedClass()).isEqualTo(argmax);
        assertThat(r.getLabel()).isEqualTo(pack.manifest().labels().get(argmax));
        for (int i = 0; i < want.length; i++) {
            assertThat(r.getProbabilities(i)).as("p[%d]", i).isCloseTo(want[i], within(1e-5f));
        }
        assertThat(r.getTopList()).hasSize(Math.min(5, pack.classes()));
        assertThat(r.getTop(0).getClassIndex()).isEqualTo(argmax);
        for (int i = 1; i < r.getTopCount(); i++) {
            assertThat(r.getTop(i).getProbability()).isLessThanOrEqualTo(r.getTop(i - 1).getProbability());
        }
        for (RankedClass t : r.getTopList()) {
            assertThat(t.getLabel()).isEqualTo(pack.manifest().labels().get(t.getClassIndex()));
            assertThat(t.getProbability()).isEqualTo(r.getProbabilities(t.getClassIndex()));
        }
        boolean jpeg = photo.endsWith(".jpg");
        assertThat(r.getInput().getFormat()).isEqualTo(jpeg ? "jpeg" : "png");
        assertThat(r.getInput().getWidth()).isEqualTo(jpeg ? 640 : 451);
        assertThat(r.getInput().getHeight()).isEqualTo(jpeg ? 427 : 300);
        assertThat(r.getInput().getChannels()).isEqualTo(3);
        assertThat(r.getInput().getAdapted()).isFalse();
        assertThat(r.getInput().getPreprocessing()).contains("prepared per the pack: shorter side to 36", "centre crop to 32x32 RGB");
        assertThat(r.getInput().getDecodeUs()).isPositive();
        assertThat(r.getLatencyUs()).isGreaterThan(r.getInput().getDecodeUs());
        assertThat(r.getDeadlineMet()).isTrue();
    }

    @Test
    void intakePixels_normaliseToThePythonSidesInput() {
        for (String packName : List.of("tiny-deit", "tiny-torchvision")) {
            EdgeServer edge = edges.get(packName);
            ModelPack pack = edge.agent().pack();
            List<String> photos = pack.manifest().golden().photos();
            for (int i = 0; i < photos.size(); i++) {
                PreparedImage img = edge.intake().prepare(TestImages.bytes("images/" + photos.get(i)));
                assertThat(new Preprocessor(pack).apply(img.pixels(), 1).data()).as(packName + " " + photos.get(i))
                        .containsExactly(golden(pack, "photo_input").sample(i).data());
            }
        }
    }

    @Test
    void truncatedJpeg_isInvalidArgument_andTheServerKeepsServing() {
        assertInvalid(() -> stub("tiny-deit").classify(encoded(TestImages.bytes("images/truncated.jpg"))), "undecodable jpeg image");
        byte[] rocket = TestImages.bytes("images/rocket.jpg");
        assertInvalid(() -> stub("tiny-deit").classify(encoded(Arrays.copyOf(rocket, rocket.length / 3))), "undecodable jpeg image");
        assertInvalid(() -> stub("tiny-deit").classify(encoded("not an image at all".getBytes())), "not a JPEG or PNG image");
        ClassifyResponse r = stub("tiny-deit").classify(encoded(rocket));
        assertThat(r.getInput().getWidth()).isEqualTo(640);
        assertThat(r.getTopCount()).isEqualTo(EdgeService.DEFAULT_TOP_K);
    }

    @Test
    void bothImageFields_orNeither_isInvalidArgumentNamingThem() {
        byte[] rocket = TestImages.bytes("images/rocket.jpg");
        assertInvalid(() -> stub("tiny-deit").classify(encoded(rocket).toBuilder().setImage(ByteString.copyFrom(new byte[3 * 32 * 32])).build()),
                "set exactly one of image (raw pixels) and encoded_image (JPEG or PNG bytes), not both");
        assertInvalid(() -> stub("tiny-deit").classify(ClassifyRequest.newBuilder().setDeadlineMs(100).build()),
                "no image: set image (raw uint8 pixels, 3072 for this pack) or encoded_image");
    }

    @Test
    void negativeTopK_isInvalidArgument_andTopKIsCappedAtTheClasses() {
        byte[] rocket = TestImages.bytes("images/rocket.jpg");
        assertInvalid(() -> stub("tiny-deit").classify(encoded(rocket).toBuilder().setTopK(-1).build()), "top_k must be >= 0");
        assertThat(stub("tiny-deit").classify(encoded(rocket).toBuilder().setTopK(2).build()).getTopCount()).isEqualTo(2);
        assertThat(stub("tiny-deit").classify(encoded(rocket).toBuilder().setTopK(99).build()).getTopCount()).isEqualTo(5);
    }

    @Test
    void imageOverTheByteLimit_isRefusedNamingTheLimit() {
        byte[] big = Arrays.copyOf(TestImages.bytes("images/rocket.jpg"), ImageLimits.DEFAULT.maxBytes() + 1);
        assertInvalid(() -> stub("tiny-deit").classify(encoded(big)),
                "encoded image of " + big.length + " bytes is over this edge's limit of " + ImageLimits.DEFAULT.maxBytes() + " bytes");
    }

    @Test
    void imageOverThePixelLimit_isRefusedFromItsHeader() {
        assertInvalid(() -> stub("tiny-deit").classify(encoded(TestImages.pngHeader(5000, 4000))),
                "image of 5000x4000 pixels is outside the accepted sizes (1 to 16384 a side, at most 16 megapixels)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rocket.jpg", "chelsea.png"})
    void colourPhoto_onTheVersion1Pack_isFittedByTheEdgesRule_andSaysSo(String photo) {
        ClassifyResponse r = stub("fmnist").classify(encoded(TestImages.bytes("images/" + photo)));
        assertThat(r.getInput().getAdapted()).isTrue();
        assertThat(r.getInput().getPreprocessing()).startsWith(r.getInput().getWidth() + "x" + r.getInput().getHeight() + " RGB ")
                .contains("resized to this version-1 pack's 28x28 grayscale input by the edge's rule",
                        "grayscale as PIL convert(\"L\")", "shorter side to 28 bilinear, centre crop");
        assertThat(r.getProbabilitiesCount()).isEqualTo(10);
        assertThat(r.getTopCount()).isEqualTo(3);
    }

    @Test
    void pngOfATestImage_onTheVersion1Pack_isUsedAsIs_andAnswersAsItsRawPixels() throws Exception {
        byte[] raw = TestPacks.testSet().image(7);
        BufferedImage b = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        b.getRaster().setDataElements(0, 0, 28, 28, raw);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        assertThat(ImageIO.write(b, "png", png)).isTrue();

        ClassifyResponse viaPng = stub("fmnist").classify(encoded(png.toByteArray()));
        ClassifyResponse viaRaw = stub("fmnist").classify(ClassifyRequest.newBuilder().setImage(ByteString.copyFrom(raw)).setDeadlineMs(5000).build());
        assertThat(viaPng.getInput().getAdapted()).isFalse();
        assertThat(viaPng.getInput().getPreprocessing()).isEqualTo("28x28 grayscale png, the pack's input size: used as is");
        assertThat(viaPng.getPredictedClass()).isEqualTo(viaRaw.getPredictedClass());
        assertThat(viaPng.getProbabilitiesList()).containsExactlyElementsOf(viaRaw.getProbabilitiesList());
        assertThat(viaRaw.hasInput()).isFalse();
    }

    static void assertInvalid(ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    static Tensor golden(ModelPack pack, String name) {
        for (Manifest.GoldenTensor g : pack.manifest().golden().tensors()) {
            if (g.name().equals(name)) {
                return new Tensor(pack.golden(name), g.shape().stream().mapToInt(Integer::intValue).toArray());
            }
        }
        throw new AssertionError("no golden " + name + " in " + pack.id());
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
