package io.cleave.core.codec;

import io.cleave.core.error.CleaveException;
import io.cleave.core.image.Image8;
import io.cleave.core.image.ImageDecoder;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.plugins.jpeg.JPEGImageWriteParam;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * The {@code JPEG} wire encoding of a split-0 input: the model's 8-bit input image, already
 * resized and cropped to the input's size ({@code [C][H][W]}), as a baseline JFIF image at a
 * chosen quality, with Huffman tables optimised for the image. The JDK's own JPEG writer and reader ({@code javax.imageio}) do the work; the
 * receiver checks that the image has exactly the input's size and channels and then applies the
 * pack's normalisation, as it does for {@code U8_IMAGE}.
 *
 * <p>A JPEG's size depends on the picture, so a stream declares it and the receiver bounds it with
 * {@link #maxBytes}.
 */
public final class JpegCodec {
    /** The quality an edge sends at unless configured otherwise (1-100). */
    public static final int DEFAULT_QUALITY = 90;

    private JpegCodec() {}

    /** Encodes {@code [C][H][W]} 8-bit planes (C = 1 or 3) at {@code quality} (1-100). */
    public static byte[] encode(byte[] planes, int channels, int height, int width, int quality) {
        checkQuality(quality);
        Image8 img = new Image8(width, height, channels, planes); // checks the geometry
        BufferedImage bi = new BufferedImage(width, height, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
        int n = width * height;
        if (channels == 1) {
            System.arraycopy(img.planes(), 0, dst, 0, n);
        } else {
            for (int i = 0; i < n; i++) { // planes R, G, B to interleaved B, G, R
                dst[3 * i] = planes[2 * n + i];
                dst[3 * i + 1] = planes[n + i];
                dst[3 * i + 2] = planes[i];
            }
        }
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        if (!writers.hasNext()) {
            throw new IllegalStateException("no JPEG writer in this JDK");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream out = new ByteArrayOutputStream(n / 4 + 1024);
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
            if (param instanceof JPEGImageWriteParam jp) {
                // Huffman tables fitted to this image instead of the standard ones: 28x28 test images shrink from
                // 742 to 573 bytes on average at quality 90 (the tables dominate a small image)
                jp.setOptimizeHuffmanTables(true);
            }
            writer.write(null, new IIOImage(bi, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory: not an input error
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /**
     * Decodes a JPEG that must be exactly {@code width x height} with {@code channels} channels
     * (a grayscale JPEG for a colour input is replicated, as for photos); pixel values 0..255 as
     * floats, {@code [C][H][W]}.
     *
     * @throws CleaveException INVALID_ARGUMENT if it is not a decodable JPEG of that geometry
     */
    public static float[] decode(byte[] jpeg, int channels, int height, int width) {
        byte[] p = decodePixels(jpeg, channels, height, width);
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = p[i] & 0xFF;
        }
        return out;
    }

    /** Same, as the 8-bit pixels themselves ({@code [C][H][W]}): what a JPEG input looks like to the pack's preprocessing. */
    public static byte[] decodePixels(byte[] jpeg, int channels, int height, int width) {
        if (!"jpeg".equals(ImageDecoder.format(jpeg))) {
            throw CleaveException.invalid("JPEG payload does not start with a JPEG signature (" + jpeg.length + " bytes)");
        }
        requireBaseline(jpeg);
        Image8 img;
        try {
            img = ImageDecoder.decode(jpeg, (long) width * height); // a header claiming more pixels is refused before decoding
        } catch (CleaveException e) {
            throw CleaveException.invalid("JPEG payload for a " + width + "x" + height + " input: " + e.getMessage());
        }
        if (img.width() != width || img.height() != height) {
            throw CleaveException.invalid("JPEG payload is " + img.width() + "x" + img.height() + "; the input is "
                    + width + "x" + height + " (resize and crop before encoding)");
        }
        if (img.channels() != channels && channels == 1) {
            throw CleaveException.invalid("JPEG payload has " + img.channels() + " channels; this pack takes grayscale");
        }
        return (img.channels() == channels ? img : img.asRgb()).planes();
    }

    /**
     * Refuses anything but a baseline (sequential, one scan per component set) JPEG before it is
     * decoded: what {@link #encode} writes. A progressive JPEG can carry many scans, each a full
     * pass of the decoder over the image, so a small payload could cost a worker far more CPU than
     * its size suggests.
     */
    static void requireBaseline(byte[] jpeg) {
        int i = 2; // after SOI
        while (i + 4 <= jpeg.length) {
            if ((jpeg[i] & 0xFF) != 0xFF) {
                throw CleaveException.invalid("JPEG payload has no marker at byte " + i);
            }
            int marker = jpeg[i + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                i++;
                continue;
            }
            if (marker == 0xDA) { // start of scan: the frame header came first
                throw CleaveException.invalid("JPEG payload has a scan before its frame header");
            }
            boolean frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (frame) {
                if (marker != 0xC0 && marker != 0xC1) {
                    throw CleaveException.invalid(String.format(java.util.Locale.ROOT,
                            "JPEG payload is not baseline (frame marker 0x%02X%s); send a baseline JPEG", marker,
                            marker == 0xC2 ? ", progressive" : ""));
                }
                return;
            }
            i += 2 + ((jpeg[i + 2] & 0xFF) << 8 | (jpeg[i + 3] & 0xFF));
        }
        throw CleaveException.invalid("JPEG payload ends before its frame header (" + jpeg.length + " bytes)");
    }

    /**
     * The largest JPEG payload accepted for an input of {@code rawBytes} 8-bit samples: twice the raw
     * size plus 64 KiB of headers and tables. A JPEG that large is worse than sending the raw pixels.
     */
    public static long maxBytes(long rawBytes) {
        return 2 * rawBytes + 65_536;
    }

    /** Throws INVALID_ARGUMENT unless {@code quality} is 1-100. */
    public static void checkQuality(int quality) {
        if (quality < 1 || quality > 100) {
            throw CleaveException.invalid("JPEG quality must be 1 to 100, got " + quality);
        }
    }
}
