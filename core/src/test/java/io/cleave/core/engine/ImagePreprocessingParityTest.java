package io.cleave.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.image.ImageDecoder;
import io.cleave.core.pack.Manifest;
import io.cleave.core.testing.TestImages;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Java's decode + resize + centre crop + normalise against torchvision's eval transform on PIL
 * (expected tensors written by onnx-models/make_test_fixtures.py from two real photographs).
 *
 * <p>PNG: bit for bit. JPEG: bit for bit on rocket.jpg as measured (JDK 17 decoder against PIL 9.4 on
 * libjpeg-turbo, with the embedded ICC profile left unapplied on both sides); the bounds below allow
 * a decoder elsewhere to round its inverse DCT or chroma upsampling by one level.
 */
class ImagePreprocessingParityTest {
    static final List<Double> MEAN = List.of(0.485, 0.456, 0.406);
    static final List<Double> STD = List.of(0.229, 0.224, 0.225);
    /** Largest per-pixel difference (0..255) allowed for JPEG input after resize and crop. */
    static final int JPEG_MAX_PIXEL_DIFF = 1;
    /** Largest mean per-pixel difference allowed for JPEG input after resize and crop. */
    static final double JPEG_MEAN_PIXEL_DIFF = 0.05;

    static Preprocessor preprocessor(int resize, int crop, String interpolation) {
        return new Preprocessor(new Manifest.Input("image", List.of(3, crop, crop), "float32", "uint8",
                new Manifest.Preprocessing(255.0, MEAN, STD, resize, interpolation, crop), "RGB"));
    }

    @ParameterizedTest
    @CsvSource({
        "chelsea, png, 256, 224, bilinear", "chelsea, png, 256, 224, bicubic", "chelsea, png, 40, 32, bicubic",
        "rocket, jpg, 256, 224, bilinear", "rocket, jpg, 256, 224, bicubic", "rocket, jpg, 40, 32, bicubic",
        // portrait: the other branch of the shorter side, upscaling, crop offsets rounded half to even (12.5, 46.5)
        "portrait, png, 40, 32, bilinear", "portrait, png, 200, 192, bicubic"})
    void pixelsAfterResizeAndCrop_matchTorchvisionOnPil(String photo, String ext, int resize, int crop, String interp) {
        byte[] got = preprocessor(resize, crop, interp).pixels(ImageDecoder.decode(TestImages.bytes("images/" + photo + "." + ext)));
        byte[] want = TestImages.expectedPixels(photo, resize, crop, interp);
        assertThat(got).hasSameSizeAs(want);
        int max = 0;
        long sum = 0;
        for (int i = 0; i < got.length; i++) {
            int d = Math.abs((got[i] & 0xFF) - (want[i] & 0xFF));
            max = Math.max(max, d);
            sum += d;
        }
        double mean = (double) sum / got.length;
        System.out.printf("preprocessing parity %s.%s %d/%d %s: max |pixel diff| %d, mean %.4f%n", photo, ext, resize, crop, interp, max, mean);
        if (ext.equals("png")) {
            assertThat(got).as("PNG pixels bit for bit").containsExactly(want);
        } else {
            assertThat(max).isLessThanOrEqualTo(JPEG_MAX_PIXEL_DIFF);
            assertThat(mean).isLessThanOrEqualTo(JPEG_MEAN_PIXEL_DIFF);
        }
    }

    @ParameterizedTest
    @CsvSource({"chelsea, png, bicubic", "rocket, jpg, bicubic", "portrait, png, bilinear"})
    void normalisedInput_matchesTorchvision(String photo, String ext, String interp) {
        Tensor t = preprocessor(40, 32, interp).image(TestImages.bytes("images/" + photo + "." + ext));
        float[] want = TestImages.expectedNormalised(photo, 40, 32, interp);
        assertThat(t.shape()).containsExactly(1, 3, 32, 32);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(t.data()[i] - want[i]));
        }
        System.out.printf("normalised parity %s.%s 40/32 %s: max |diff| %.6f%n", photo, ext, interp, worst);
        if (ext.equals("png")) {
            assertThat(t.data()).containsExactly(want);
        } else {
            assertThat(worst).isLessThanOrEqualTo(JPEG_MAX_PIXEL_DIFF / 255.0 / 0.224);
        }
    }
}
