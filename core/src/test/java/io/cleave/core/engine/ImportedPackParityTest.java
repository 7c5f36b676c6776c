package io.cleave.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PackStats;
import io.cleave.core.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Packs made by onnx-models/import_vit.py (written by make_test_fixtures.py: two with random
 * weights, and tiny-trained-exits, whose exits were trained with --train-images): the Java engine's
 * chained segments give the source model's own logits ({@code source_logits}, from torchvision's
 * VisionTransformer or the timm-layout reference) within 1e-4, and every recorded tensor is
 * reproduced, trained exits' logits included.
 */
class ImportedPackParityTest {
    static final double TOL = 1e-4;

    static ModelPack pack(String name) {
        return ModelPack.load(TestImages.resource("packs/" + name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-deit", "tiny-torchvision", "tiny-trained-exits", "tiny-exit-types"})
    void chainedSegments_giveTheSourceModelsLogits(String name) {
        ModelPack pack = pack(name);
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor x = golden(pack, "input");
            Tensor tokens = engine.blocks(engine.stem(x), 0, pack.blockCount());
            Tensor logits = engine.exit(pack.exitCount() - 1, tokens);
            double diff = maxAbsDiff(logits, golden(pack, "source_logits"));
            System.out.printf("imported pack %s: Java final exit vs source logits, max |diff| %.3g over %d inputs%n",
                    name, diff, x.batch());
            assertThat(diff).isLessThanOrEqualTo(TOL);
        }
    }

    /**
     * The same check on packs too large to commit, e.g. a vit_b_16 or DeiT-S made by import_vit.py:
     * {@code -Dcleave.importedPacks=/tmp/vit-b16,/tmp/deit-s} (comma-separated folders).
     */
    @Test
    @EnabledIfSystemProperty(named = "cleave.importedPacks", matches = ".+")
    void largeImportedPacks_giveTheSourceModelsLogits() {
        for (String dir : System.getProperty("cleave.importedPacks").split(",")) {
            ModelPack pack = ModelPack.load(Path.of(dir.trim()));
            try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
                Tensor x = golden(pack, "input");
                long t0 = System.nanoTime();
                Tensor logits = engine.exit(pack.exitCount() - 1, engine.blocks(engine.stem(x), 0, pack.blockCount()));
                double ms = (System.nanoTime() - t0) / 1e6;
                double diff = maxAbsDiff(logits, golden(pack, "source_logits"));
                System.out.printf("imported pack %s: Java final exit vs source logits, max |diff| %.3g over %d inputs "
                        + "(%.0f ms for the batch, 1 thread)%n", pack.id(), diff, x.batch(), ms);
                assertThat(diff).as(pack.id()).isLessThanOrEqualTo(TOL);
                java.util.List<String> photos = pack.manifest().golden().photos();
                for (int i = 0; photos != null && i < photos.size(); i++) {
                    Tensor px = new Preprocessor(pack).image(TestImages.bytes("images/" + photos.get(i)));
                    double inDiff = maxAbsDiff(px, golden(pack, "photo_input").sample(i));
                    Tensor pl = engine.exit(pack.exitCount() - 1, engine.blocks(engine.stem(px), 0, pack.blockCount()));
                    double pDiff = maxAbsDiff(pl, golden(pack, "photo_source_logits").sample(i));
                    System.out.printf("imported pack %s: %s bytes -> input max |diff| %.3g, logits max |diff| %.3g%n",
                            pack.id(), photos.get(i), inDiff, pDiff);
                    assertThat(inDiff).isZero();
                    assertThat(pDiff).isLessThanOrEqualTo(TOL);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-deit", "tiny-torchvision", "tiny-trained-exits", "tiny-exit-types"})
    void everyRecordedTensor_isReproducedSegmentBySegment(String name) {
        ModelPack pack = pack(name);
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            assertThat(maxAbsDiff(engine.stem(golden(pack, "input")), golden(pack, "tokens_after_stem"))).isLessThanOrEqualTo(TOL);
            for (int b = 1; b <= pack.blockCount(); b++) {
                Tensor in = golden(pack, b == 1 ? "tokens_after_stem" : String.format("tokens_after_block_%02d", b - 1));
                assertThat(maxAbsDiff(engine.blocks(in, b - 1, b), golden(pack, String.format("tokens_after_block_%02d", b))))
                        .as("block " + b).isLessThanOrEqualTo(TOL);
            }
            for (Manifest.Exit e : pack.manifest().exits()) {
                Tensor in = golden(pack, String.format("tokens_after_block_%02d", e.afterBlock()));
                assertThat(maxAbsDiff(engine.exit(e.index(), in), golden(pack, "logits_exit_" + e.index())))
                        .as("exit " + e.index()).isLessThanOrEqualTo(TOL);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-deit", "tiny-torchvision"})
    void aPhoto_runsEndToEndThroughThePacksPreprocessing(String name) {
        ModelPack pack = pack(name);
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor x = new Preprocessor(pack).image(TestImages.bytes("images/rocket.jpg"));
            assertThat(x.shape()).containsExactly(1, 3, 32, 32);
            Tensor logits = engine.exit(pack.exitCount() - 1, engine.blocks(engine.stem(x), 0, pack.blockCount()));
            assertThat(logits.shape()).containsExactly(1, pack.classes());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-deit", "tiny-torchvision", "tiny-trained-exits"})
    void photoBytes_giveTheLogitsPythonGetsFromTheSamePhoto(String name) {
        ModelPack pack = pack(name);
        java.util.List<String> photos = pack.manifest().golden().photos();
        assertThat(photos).containsExactly("rocket.jpg", "chelsea.png");
        Tensor wantInput = golden(pack, "photo_input");
        Tensor wantLogits = golden(pack, "photo_source_logits");
        Preprocessor pre = new Preprocessor(pack);
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            for (int i = 0; i < photos.size(); i++) {
                Tensor x = pre.image(TestImages.bytes("images/" + photos.get(i)));
                assertThat(maxAbsDiff(x, wantInput.sample(i))).as(photos.get(i) + " input").isZero();
                Tensor logits = engine.exit(pack.exitCount() - 1, engine.blocks(engine.stem(x), 0, pack.blockCount()));
                double diff = maxAbsDiff(logits, wantLogits.sample(i));
                System.out.printf("imported pack %s: %s bytes -> Java logits vs PIL/torchvision + source model, max |diff| %.3g%n",
                        name, photos.get(i), diff);
                assertThat(diff).as(photos.get(i) + " logits").isLessThanOrEqualTo(TOL);
            }
        }
    }

    /**
     * The exit types no other test pack has (all but mlp and vit; tiny-exit-types: 28x28 grayscale, 4 blocks, random
     * weights): each exit's logits, computed by the Java engine from the input image through the
     * chained stem and blocks (not from the recorded tokens), equal PyTorch's exit module on
     * PyTorch's tokens within 1e-4, and within 1e-4 of the largest logit (the untrained heads' logits
     * are about 0.01, so 1e-4 alone would be a loose check).
     */
    @Test
    void cnnMixerAndResmlpExits_giveTorchsLogitsThroughTheChainedSegments() {
        ModelPack pack = pack("tiny-exit-types");
        assertThat(pack.manifest().exits()).extracting(Manifest.Exit::type)
                .containsExactly("cnn_add", "cnn_ignore", "cnn_project", "mixer", "resmlp", "final");
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(1))) {
            Tensor x = golden(pack, "input");
            assertThat(x.shape()).containsExactly(3, 1, 28, 28);
            Tensor tokens = engine.stem(x);
            int done = 0;
            for (Manifest.Exit e : pack.manifest().exits()) {
                tokens = engine.blocks(tokens, done, e.afterBlock());
                done = e.afterBlock();
                Tensor logits = engine.exit(e.index(), tokens);
                Tensor want = golden(pack, "logits_exit_" + e.index());
                double diff = maxAbsDiff(logits, want);
                double scale = 0;
                for (float v : want.data()) {
                    scale = Math.max(scale, Math.abs(v));
                }
                System.out.printf("imported pack tiny-exit-types: exit %d (%s after block %d), Java chained vs PyTorch, max |diff| %.3g "
                        + "(logits up to %.3g)%n", e.index(), e.type(), e.afterBlock(), diff, scale);
                // freshly initialised exit heads give small logits (about 0.01): the difference must also be small beside them
                assertThat(scale).as("exit " + e.index() + " logits must not be trivially zero").isGreaterThan(1e-3);
                assertThat(diff).as("exit " + e.index() + " " + e.type()).isLessThanOrEqualTo(TOL).isLessThanOrEqualTo(1e-4 * scale);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-deit", "tiny-torchvision", "tiny-exit-types"})
    void untrainedPack_saysSoAndPlansWithChanceAccuracy(String name) {
        ModelPack pack = pack(name);
        assertThat(pack.trained()).isFalse();
        assertThat(pack.manifest().exits()).allSatisfy(e -> assertThat(e.accuracy()).isNull());
        PackStats stats = PackStats.of(pack);
        assertThat(stats).isNotNull();
    }

    /**
     * Exits trained by import_vit.py --train-images on a tiny torchvision ViT's frozen backbone
     * (Fashion-MNIST PNGs in ImageFolder layout, no test folder): each exit says it is trained, its
     * temperature and validation accuracy are read, test accuracy is null rather than a made-up 0,
     * and the planner plans with the measured accuracy instead of chance.
     */
    @Test
    void exitsTrainedOnAnImageFolder_areReadAndPlannedWithTheirMeasuredAccuracy() {
        ModelPack pack = pack("tiny-trained-exits");
        assertThat(pack.trained()).isTrue();
        assertThat(pack.manifest().exits()).extracting(Manifest.Exit::type).containsExactly("mlp", "vit", "final");
        PackStats stats = PackStats.of(pack);
        for (Manifest.Exit e : pack.manifest().exits()) {
            assertThat(e.trained()).as("exit " + e.index()).isTrue();
            assertThat(e.temperature()).as("exit " + e.index()).isNotEqualTo(1.0);
            assertThat(e.accuracy().test()).as("no --test-images: nothing measured").isNull();
            assertThat(e.ece().testBefore()).isNull();
            assertThat(e.accuracy().validation()).as("exit " + e.index()).isGreaterThan(2.0 / pack.classes());
            assertThat(stats.accuracy(e.index(), 0, io.cleave.proto.v1.Encoding.FP32, false))
                    .isEqualTo(e.accuracy().validation());
            assertThat(e.thresholds()).isNotEmpty();
        }
        assertThat(stats.thresholds()).contains(0.5, 0.9);
    }

    static Tensor golden(ModelPack pack, String name) {
        for (Manifest.GoldenTensor g : pack.manifest().golden().tensors()) {
            if (g.name().equals(name)) {
                return new Tensor(pack.golden(name), g.shape().stream().mapToInt(Integer::intValue).toArray());
            }
        }
        throw new AssertionError("no golden " + name + " in " + pack);
    }

    static double maxAbsDiff(Tensor a, Tensor b) {
        assertThat(a.shape()).containsExactly(b.shape());
        double worst = 0;
        for (int i = 0; i < a.data().length; i++) {
            worst = Math.max(worst, Math.abs(a.data()[i] - b.data()[i]));
        }
        return worst;
    }
}
