package io.cleave.core.image;

import io.cleave.core.error.CleaveException;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * JPEG and PNG bytes to an {@link Image8}, with the JDK's decoders ({@code javax.imageio}).
 *
 * <p>Every failure is a {@link CleaveException} with {@code INVALID_ARGUMENT} that says what was
 * wrong: not a JPEG or PNG, undecodable or truncated data (a decoder warning such as "premature end
 * of JPEG file" is an error here, as it is in PIL, never a half-grey picture), an unsupported
 * colour space (CMYK), or a size past {@link #MAX_SIDE} / {@link #MAX_PIXELS}, checked from the
 * header before any pixel is decoded.
 *
 * <p>As PIL does, an embedded ICC profile is not applied (the samples stay as stored), the EXIF
 * orientation is not applied, and alpha is dropped (not composited);
 * 16-bit PNG samples keep their high byte. Grayscale images (and palettes of greys) decode to one
 * channel, everything else to RGB.
 */
public final class ImageDecoder {
    /** Largest width or height accepted. */
    public static final int MAX_SIDE = 16_384;
    /** Largest pixel count accepted (a 40-megapixel photo). */
    public static final long MAX_PIXELS = 40_000_000L;

    private static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private ImageDecoder() {}

    /** The format of {@code bytes} from its signature: "jpeg", "png", or null. */
    public static String format(byte[] bytes) {
        if (startsWith(bytes, JPEG)) {
            return "jpeg";
        }
        if (startsWith(bytes, PNG)) {
            return "png";
        }
        return null;
    }

    /** Decodes JPEG or PNG bytes; throws {@code INVALID_ARGUMENT} for anything it cannot take. */
    public static Image8 decode(byte[] bytes) {
        return decode(bytes, MAX_PIXELS);
    }

    /**
     * Same, accepting at most {@code maxPixels} (capped at {@link #MAX_PIXELS}), checked from the
     * header before any pixel is decoded: a server sets it to bound the memory one request takes.
     */
    public static Image8 decode(byte[] bytes, long maxPixels) {
        long limit = Math.min(maxPixels, MAX_PIXELS);
        String format = format(bytes);
        if (format == null) {
            throw CleaveException.invalid("not a JPEG or PNG image (" + bytes.length + " bytes, starting "
                    + HexFormat.of().formatHex(bytes, 0, Math.min(8, bytes.length)) + ")");
        }
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IllegalStateException("no " + format + " reader in this JDK");
        }
        ImageReader reader = readers.next();
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((src, warning) -> warnings.add(warning));
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            checkSize(w, h, limit);
            BufferedImage img = reader.read(0, asStored(reader));
            if (!warnings.isEmpty()) {
                throw CleaveException.invalid("undecodable " + format + " image (" + bytes.length + " bytes): "
                        + String.join("; ", warnings));
            }
            return toImage8(img, format);
        } catch (IOException | RuntimeException e) {
            if (e instanceof CleaveException c) {
                throw c;
            }
            throw CleaveException.invalid("undecodable " + format + " image (" + bytes.length + " bytes): "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } finally {
            reader.dispose();
        }
    }

    /**
     * Read parameters that keep the decoded samples as stored. The JDK's JPEG reader otherwise
     * converts from an embedded ICC profile to sRGB (mean shift of -11 in red on rocket.jpg), which
     * PIL, and so the Python side of every pack, does not do.
     */
    private static ImageReadParam asStored(ImageReader reader) throws IOException {
        ImageReadParam param = reader.getDefaultReadParam();
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        if (!types.hasNext()) {
            return param;
        }
        int csType = types.next().getColorModel().getColorSpace().getType();
        while (types.hasNext()) {
            ImageTypeSpecifier t = types.next();
            ColorSpace cs = t.getColorModel().getColorSpace();
            if (cs.getType() == csType && cs instanceof ICC_ColorSpace && !cs.isCS_sRGB()
                    && cs != ColorSpace.getInstance(ColorSpace.CS_GRAY)) {
                param.setDestinationType(t); // the embedded profile itself: no conversion
                break;
            }
        }
        return param;
    }

    static void checkSize(int w, int h, long maxPixels) {
        if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || (long) w * h > maxPixels) {
            throw CleaveException.invalid("image of " + w + "x" + h + " pixels is outside the accepted sizes (1 to "
                    + MAX_SIDE + " a side, at most " + megapixels(maxPixels) + " megapixels)");
        }
    }

    private static String megapixels(long pixels) {
        return pixels % 1_000_000 == 0 ? String.valueOf(pixels / 1_000_000) : String.format(java.util.Locale.ROOT, "%.2f", pixels / 1e6);
    }

    private static Image8 toImage8(BufferedImage img, String format) {
        int w = img.getWidth();
        int h = img.getHeight();
        int n = w * h;
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (cm instanceof IndexColorModel icm) {
            int[] idx = r.getSamples(0, 0, w, h, 0, new int[n]);
            boolean grey = true;
            for (int i = 0; i < icm.getMapSize() && grey; i++) {
                grey = icm.getRed(i) == icm.getGreen(i) && icm.getGreen(i) == icm.getBlue(i);
            }
            byte[] planes = new byte[n * (grey ? 1 : 3)];
            for (int i = 0; i < n; i++) {
                planes[i] = (byte) icm.getRed(idx[i]);
                if (!grey) {
                    planes[n + i] = (byte) icm.getGreen(idx[i]);
                    planes[2 * n + i] = (byte) icm.getBlue(idx[i]);
                }
            }
            return new Image8(w, h, grey ? 1 : 3, planes);
        }
        int type = cm.getColorSpace().getType();
        int channels;
        if (type == ColorSpace.TYPE_GRAY) {
            channels = 1;
        } else if (type == ColorSpace.TYPE_RGB && r.getNumBands() >= 3) {
            channels = 3;
        } else {
            throw CleaveException.invalid("unsupported " + format + " colour space (type " + type + ", "
                    + r.getNumBands() + " bands); expected grayscale or RGB");
        }
        byte[] planes = new byte[n * channels];
        int[] buf = new int[n];
        for (int c = 0; c < channels; c++) {
            int bits = cm.getComponentSize(c);
            int shift = Math.max(0, bits - 8);
            r.getSamples(0, 0, w, h, c, buf);
            for (int i = 0; i < n; i++) {
                planes[c * n + i] = (byte) (buf[i] >> shift);
            }
        }
        return new Image8(w, h, channels, planes);
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
