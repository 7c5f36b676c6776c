package io.cleave.core.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.image.Image8;
import io.cleave.core.image.ImageDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The JPEG wire encoding of a split-0 input, on a real photo and on the test set's kind of image. */
class JpegCodecTest {
    static final Path PHOTOS = Path.of("src/test/resources/images");

    /** chelsea.png's central 224x224 crop, RGB planes. */
    static Image8 photo() throws Exception {
        Image8 img = ImageDecoder.decode(Files.readAllBytes(PHOTOS.resolve("chelsea.png")));
        return img.crop((img.width() - 224) / 2, (img.height() - 224) / 2, 224, 224);
    }

    static double meanAbsDiff(byte[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs((a[i] & 0xFF) - b[i]);
        }
        return s / a.length;
    }

    @Test
    void rgbPhoto_roundTripsCloseToItsPixels_inFarFewerBytes_andMoreBytesAtHigherQuality() throws Exception {
        Image8 img = photo();
        byte[] q50 = JpegCodec.encode(img.planes(), 3, 224, 224, 50);
        byte[] q95 = JpegCodec.encode(img.planes(), 3, 224, 224, 95);
        assertThat(q95.length).isGreaterThan(q50.length);
        assertThat(q95.length).isLessThan(img.planes().length / 4); // 150,528 raw bytes
        float[] back50 = JpegCodec.decode(q50, 3, 224, 224);
        float[] back95 = JpegCodec.decode(q95, 3, 224, 224);
        assertThat(back95).hasSize(img.planes().length);
        double err50 = meanAbsDiff(img.planes(), back50);
        double err95 = meanAbsDiff(img.planes(), back95);
        assertThat(err95).isLessThan(err50).isLessThan(3.0); // mean error in levels of 0..255
        assertThat(err50).isLessThan(8.0);
    }

    @Test
    void channelOrder_survives_redStaysRed() {
        int n = 16 * 16;
        byte[] planes = new byte[3 * n];
        java.util.Arrays.fill(planes, 0, n, (byte) 200); // R
        java.util.Arrays.fill(planes, n, 2 * n, (byte) 30); // G
        java.util.Arrays.fill(planes, 2 * n, 3 * n, (byte) 90); // B
        float[] back = JpegCodec.decode(JpegCodec.encode(planes, 3, 16, 16, 95), 3, 16, 16);
        assertThat(back[0]).isBetween(195f, 205f);
        assertThat(back[n]).isBetween(25f, 35f);
        assertThat(back[2 * n]).isBetween(85f, 95f);
    }

    @Test
    void grayscale28x28_roundTrips() {
        byte[] px = new byte[28 * 28];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) ((i % 28) * 9); // a horizontal ramp
        }
        byte[] jpeg = JpegCodec.encode(px, 1, 28, 28, 90);
        assertThat(ImageDecoder.format(jpeg)).isEqualTo("jpeg");
        assertThat(meanAbsDiff(px, JpegCodec.decode(jpeg, 1, 28, 28))).isLessThan(3.0);
    }

    @Test
    void aProgressiveJpeg_isRefusedBeforeDecoding() throws Exception {
        java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        javax.imageio.ImageWriter w = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (javax.imageio.stream.MemoryCacheImageOutputStream ios = new javax.imageio.stream.MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            javax.imageio.ImageWriteParam p = w.getDefaultWriteParam();
            p.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT);
            w.write(null, new javax.imageio.IIOImage(bi, null, null), p);
        }
        byte[] progressive = out.toByteArray();
        assertThat(ImageDecoder.decode(progressive).width()).isEqualTo(28); // a valid image, just not one we accept
        assertThatThrownBy(() -> JpegCodec.decode(progressive, 1, 28, 28)).isInstanceOf(CleaveException.class)
                .hasMessageContaining("not baseline").hasMessageContaining("progressive");
        byte[] baseline = JpegCodec.encode(new byte[28 * 28], 1, 28, 28, 75);
        assertThatThrownBy(() -> JpegCodec.decode(java.util.Arrays.copyOf(baseline, 20), 1, 28, 28)).isInstanceOf(CleaveException.class);
    }

    @Test
    void aGrayscaleJpeg_forAnRgbInput_isReplicated() {
        byte[] px = new byte[8 * 8];
        java.util.Arrays.fill(px, (byte) 100);
        float[] rgb = JpegCodec.decode(JpegCodec.encode(px, 1, 8, 8, 95), 3, 8, 8);
        assertThat(rgb).hasSize(3 * 64);
        assertThat(rgb[0]).isEqualTo(rgb[64]).isEqualTo(rgb[128]);
    }

    @Test
    void wrongSize_wrongChannels_notAJpeg_andBadQuality_areInvalidArgument() throws Exception {
        byte[] jpeg = JpegCodec.encode(photo().planes(), 3, 224, 224, 75);
        assertThatThrownBy(() -> JpegCodec.decode(jpeg, 3, 32, 32)).isInstanceOf(CleaveException.class)
                .hasMessageContaining("224x224").hasMessageContaining("32x32")
                .satisfies(e -> assertThat(((CleaveException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        // the same pixel count in another shape: refused by the size check, not by the pixel bound
        byte[] tall = JpegCodec.encode(new byte[16 * 49], 1, 49, 16, 75);
        assertThatThrownBy(() -> JpegCodec.decode(tall, 1, 28, 28)).hasMessageContaining("JPEG payload is 16x49; the input is 28x28");
        byte[] colourSmall = JpegCodec.encode(new byte[3 * 28 * 28], 3, 28, 28, 75);
        assertThatThrownBy(() -> JpegCodec.decode(colourSmall, 1, 28, 28)).hasMessageContaining("grayscale");
        byte[] png = Files.readAllBytes(PHOTOS.resolve("chelsea.png"));
        assertThatThrownBy(() -> JpegCodec.decode(png, 3, 224, 224)).hasMessageContaining("JPEG signature");
        byte[] truncated = java.util.Arrays.copyOf(jpeg, jpeg.length / 2);
        assertThatThrownBy(() -> JpegCodec.decode(truncated, 3, 224, 224)).isInstanceOf(CleaveException.class);
        assertThatThrownBy(() -> JpegCodec.encode(new byte[64], 1, 8, 8, 0)).hasMessageContaining("1 to 100");
        assertThatThrownBy(() -> JpegCodec.encode(new byte[64], 1, 8, 8, 101)).hasMessageContaining("1 to 100");
    }
}
