package io.cleave.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;

/** The committed photos, the Python-side preprocessing they must match, and the imported test packs. */
public final class TestImages {
    private TestImages() {}

    /**
     * A committed test resource as a file. From another module, where these resources come inside
     * core's test jar, the files are read from core's source tree ({@code cleave.coreTestResources},
     * set by the build): packs must be real folders for ONNX Runtime.
     */
    public static Path resource(String name) {
        try {
            var url = TestImages.class.getResource("/" + name);
            if (url == null) {
                throw new IllegalStateException("no test resource " + name + " (run onnx-models/make_test_fixtures.py)");
            }
            if (!"file".equals(url.getProtocol())) {
                Path dir = Path.of(System.getProperty("cleave.coreTestResources", "../core/src/test/resources"));
                Path f = dir.resolve(name);
                if (!Files.exists(f)) {
                    throw new IllegalStateException("test resource " + name + " is inside " + url.getProtocol() + ":, and not in " + dir
                            + " (set -Dcleave.coreTestResources to core/src/test/resources)");
                }
                return f;
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(resource(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Expected 8-bit pixels [3][crop][crop] from PIL + torchvision for a photo and a resize/crop/filter. */
    public static byte[] expectedPixels(String photo, int resize, int crop, String interpolation) {
        String name = "images/expected/" + photo + "_" + resize + "_" + crop + "_" + interpolation + ".u8.gz";
        try (InputStream in = new GZIPInputStream(Files.newInputStream(resource(name)))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Expected normalised input (ImageNet mean and std) from torchvision, little-endian float32. */
    public static float[] expectedNormalised(String photo, int resize, int crop, String interpolation) {
        byte[] b = bytes("images/expected/" + photo + "_" + resize + "_" + crop + "_" + interpolation + ".f32");
        float[] out = new float[b.length / 4];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** A PNG signature and a valid IHDR chunk claiming the given size, and nothing else. */
    public static byte[] pngHeader(int w, int h) {
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 17 + 4);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}).putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
        return b.array();
    }
}
