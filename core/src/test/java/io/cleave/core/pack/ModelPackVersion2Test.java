package io.cleave.core.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.engine.Preprocessor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.testing.TestImages;
import io.cleave.core.testing.TestPacks;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Version-2 manifests (imported packs) next to version 1, and images the packs cannot take. */
class ModelPackVersion2Test {
    @TempDir
    Path tmp;

    @Test
    void importedPack_readsItsVersion2Fields() {
        ModelPack pack = ModelPack.load(TestImages.resource("packs/tiny-torchvision"));
        Manifest m = pack.manifest();
        assertThat(m.formatVersion()).isEqualTo(2);
        assertThat(pack.trained()).isFalse();
        assertThat(pack.channels()).isEqualTo(3);
        assertThat(m.labels()).containsExactly("cat", "rocket", "coffee", "astronaut");
        assertThat(m.source().kind()).isEqualTo("torchvision");
        assertThat(m.input().color()).isEqualTo("RGB");
        assertThat(m.input().preprocessing().resize()).isEqualTo(36);
        assertThat(m.input().preprocessing().crop()).isEqualTo(32);
        assertThat(m.input().preprocessing().interpolation()).isEqualTo("bilinear");
    }

    @Test
    void version1Pack_isTrainedAndHasNoResizeStep() {
        ModelPack pack = TestPacks.pack();
        assertThat(pack.manifest().formatVersion()).isEqualTo(1);
        assertThat(pack.trained()).isTrue();
        assertThat(pack.manifest().input().preprocessing().resize()).isNull();
    }

    @Test
    void missingInterpolation_isNamedNotNullPointerException() { // found by ModelPackFuzzTest
        Path dir = copy("tiny-deit");
        rewrite(dir, "\"interpolation\"", "\"interp\"");
        assertThatThrownBy(() -> ModelPack.load(dir))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining(dir.resolve("manifest.json").toString())
                .hasMessageContaining("interpolation null is not one of");
    }

    @Test
    void unknownVersion_namesTheFileAndTheVersion() {
        Path dir = copy("tiny-deit");
        rewrite(dir, "\"formatVersion\": 2", "\"formatVersion\": 3");
        assertThatThrownBy(() -> ModelPack.load(dir))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining(dir.resolve("manifest.json").toString())
                .hasMessageContaining("unknown manifest version 3; this build reads versions 1 to 2");
    }

    @Test
    void unknownInterpolation_isRejected() {
        Path dir = copy("tiny-deit");
        rewrite(dir, "\"interpolation\": \"bicubic\"", "\"interpolation\": \"lanczos\"");
        assertThatThrownBy(() -> ModelPack.load(dir)).hasMessageContaining("interpolation lanczos is not one of [bilinear, bicubic]");
    }

    @Test
    void cropDisagreeingWithTheInputShape_isRejected() {
        Path dir = copy("tiny-deit");
        rewrite(dir, "\"crop\": 32", "\"crop\": 30");
        assertThatThrownBy(() -> ModelPack.load(dir)).hasMessageContaining("crop 30 must equal the input's height and width [32, 32]");
    }

    @Test
    void version2WithoutTrainedFlag_isRejected() {
        Path dir = copy("tiny-deit");
        rewrite(dir, "\"trained\": false,\n  \"source\"", "\"source\"");
        assertThatThrownBy(() -> ModelPack.load(dir)).hasMessageContaining("version 2 needs \"trained\"");
    }

    @Test
    void colourPhoto_forTheGrayscalePack_isAClearError() {
        Preprocessor pre = new Preprocessor(TestPacks.pack());
        assertThatThrownBy(() -> pre.image(TestImages.bytes("images/chelsea.png")))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("this pack takes grayscale images; the image has 3 colour channels (451x300)")
                .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void grayscaleImageOfTheWrongSize_forAVersion1Pack_isAnErrorNotASquash() {
        Preprocessor pre = new Preprocessor(TestPacks.pack());
        assertThatThrownBy(() -> pre.image(png(new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY))))
                .hasMessageContaining("this pack takes 28x28 images and has no resize step; the image is 64x48");
    }

    @Test
    void grayscaleImageOfTheRightSize_forAVersion1Pack_equalsItsRawPixels() {
        BufferedImage b = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        byte[] raw = new byte[28 * 28];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i * 7);
            b.getRaster().setSample(i % 28, i / 28, 0, raw[i] & 0xFF);
        }
        Preprocessor pre = new Preprocessor(TestPacks.pack());
        assertThat(pre.image(png(b)).data()).containsExactly(pre.apply(raw, 1).data());
    }

    @Test
    void grayscalePhoto_forAnRgbPack_isReplicatedToThreeChannels() {
        BufferedImage b = new BufferedImage(40, 40, BufferedImage.TYPE_BYTE_GRAY);
        b.getRaster().setSample(20, 20, 0, 200);
        Preprocessor pre = new Preprocessor(ModelPack.load(TestImages.resource("packs/tiny-deit")));
        float[] x = pre.image(png(b)).data();
        int plane = 32 * 32;
        for (int i = 0; i < plane; i++) {
            // same pixel in every channel: (p/255 - mean_c)/std_c inverts to the same p
            double r = x[i] * 0.229 + 0.485;
            double g = x[plane + i] * 0.224 + 0.456;
            double bl = x[2 * plane + i] * 0.225 + 0.406;
            assertThat(Math.abs(r - g)).isLessThan(1e-5);
            assertThat(Math.abs(r - bl)).isLessThan(1e-5);
        }
    }

    private Path copy(String name) {
        Path src = TestImages.resource("packs/" + name);
        Path dst = tmp.resolve(name);
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = dst.resolve(src.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dst;
    }

    private static void rewrite(Path dir, String from, String to) {
        try {
            Path m = dir.resolve("manifest.json");
            String s = Files.readString(m, StandardCharsets.UTF_8);
            assertThat(s).contains(from);
            Files.writeString(m, s.replace(from, to));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] png(BufferedImage b) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(b, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
