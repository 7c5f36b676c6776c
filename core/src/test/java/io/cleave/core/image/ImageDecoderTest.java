package io.cleave.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.testing.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    @Test
    void jpegPhoto_decodesToRgbAtItsSize() {
        Image8 img = ImageDecoder.decode(TestImages.bytes("images/rocket.jpg"));
        assertThat(img.width()).isEqualTo(640);
        assertThat(img.height()).isEqualTo(427);
        assertThat(img.channels()).isEqualTo(3);
    }

    @Test
    void pngPhoto_decodesToRgbAtItsSize() {
        Image8 img = ImageDecoder.decode(TestImages.bytes("images/chelsea.png"));
        assertThat(img.width()).isEqualTo(451);
        assertThat(img.height()).isEqualTo(300);
        assertThat(img.channels()).isEqualTo(3);
    }

    @Test
    void pngPixels_areExactlyTheStoredOnes() throws Exception {
        BufferedImage b = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        b.setRGB(0, 0, 0x102030);
        b.setRGB(2, 1, 0xFFFEFD);
        Image8 img = ImageDecoder.decode(png(b));
        assertThat(new int[] {img.get(0, 0, 0), img.get(1, 0, 0), img.get(2, 0, 0)}).containsExactly(0x10, 0x20, 0x30);
        assertThat(new int[] {img.get(0, 2, 1), img.get(1, 2, 1), img.get(2, 2, 1)}).containsExactly(0xFF, 0xFE, 0xFD);
    }

    @Test
    void grayscalePng_decodesToOneChannelWithoutGammaChange() throws Exception {
        BufferedImage b = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        b.getRaster().setSample(1, 2, 0, 77);
        Image8 img = ImageDecoder.decode(png(b));
        assertThat(img.channels()).isEqualTo(1);
        assertThat(img.get(0, 1, 2)).isEqualTo(77);
        assertThat(img.get(0, 0, 0)).isZero();
    }

    @Test
    void truncatedJpeg_isAnErrorNotAGreyPicture() {
        assertThatThrownBy(() -> ImageDecoder.decode(TestImages.bytes("images/truncated.jpg")))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("undecodable jpeg image")
                .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void jpegCutShort_isAnError() {
        byte[] b = TestImages.bytes("images/rocket.jpg");
        assertThatThrownBy(() -> ImageDecoder.decode(Arrays.copyOf(b, b.length / 2)))
                .hasMessageContaining("undecodable jpeg image");
    }

    @Test
    void notAnImage_saysWhatItStartsWith() {
        assertThatThrownBy(() -> ImageDecoder.decode("GIF89a....".getBytes()))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("not a JPEG or PNG image (10 bytes, starting 4749463839612e2e)");
        assertThatThrownBy(() -> ImageDecoder.decode(new byte[0])).hasMessageContaining("not a JPEG or PNG image (0 bytes");
    }

    @Test
    void absurdSize_isRejectedFromTheHeaderBeforeDecoding() {
        assertThatThrownBy(() -> ImageDecoder.decode(TestImages.pngHeader(100_000, 20)))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("100000x20 pixels is outside the accepted sizes");
        assertThatThrownBy(() -> ImageDecoder.decode(TestImages.pngHeader(10_000, 10_000)))
                .hasMessageContaining("at most 40 megapixels");
    }

    @Test
    void aServersLowerPixelLimit_isAppliedFromTheHeader() {
        assertThatThrownBy(() -> ImageDecoder.decode(TestImages.pngHeader(5000, 4000), 16_000_000L))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("5000x4000 pixels is outside the accepted sizes (1 to 16384 a side, at most 16 megapixels)");
        assertThatThrownBy(() -> ImageDecoder.decode(TestImages.bytes("images/rocket.jpg"), 250_000L))
                .hasMessageContaining("640x427 pixels is outside the accepted sizes (1 to 16384 a side, at most 0.25 megapixels)");
        assertThat(ImageDecoder.decode(TestImages.bytes("images/rocket.jpg"), 640 * 427).width()).isEqualTo(640);
    }

    @Test
    void grayscale_isPilsConvertL() {
        // PIL's convert("L") gives the primaries 76, 150, 29; (10,200,77) is round(0.299*10 + 0.587*200 + 0.114*77) = 129
        // (PIL was not at hand to confirm that one: it follows from the fixed-point formula in Pillow's Convert.c)
        byte[] planes = new byte[3 * 4];
        int[][] rgb = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 200, 77}};
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 3; c++) {
                planes[c * 4 + i] = (byte) rgb[i][c];
            }
        }
        Image8 g = new Image8(4, 1, 3, planes).grayscale();
        assertThat(g.channels()).isEqualTo(1);
        assertThat(new int[] {g.get(0, 0, 0), g.get(0, 1, 0), g.get(0, 2, 0), g.get(0, 3, 0)}).containsExactly(76, 150, 29, 129);
    }

    static byte[] png(BufferedImage b) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(b, "png", out)).isTrue();
        return out.toByteArray();
    }
}
