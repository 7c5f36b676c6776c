package io.cleave.core.data;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reads MNIST-style IDX files (optionally gzipped), e.g. the committed Fashion-MNIST test set. */
public final class IdxReader {
    private IdxReader() {}

    /** Reads {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]} in {@code dir}. */
    public static Dataset read(Path dir, String prefix) {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        try (DataInputStream im = open(images); DataInputStream lb = open(labels)) {
            int magic = im.readInt();
            if (magic != 0x803) {
                throw bad(images, "magic " + Integer.toHexString(magic) + ", expected 803 (uint8, 3 dims)");
            }
            int n = im.readInt();
            int h = im.readInt();
            int w = im.readInt();
            if (lb.readInt() != 0x801) {
                throw bad(labels, "not an IDX uint8 vector");
            }
            int nl = lb.readInt();
            if (nl != n) {
                throw bad(labels, nl + " labels for " + n + " images");
            }
            byte[] pixels = new byte[n * h * w];
            im.readFully(pixels);
            byte[] lab = new byte[n];
            lb.readFully(lab);
            int[] l = new int[n];
            for (int i = 0; i < n; i++) {
                l[i] = lab[i];
            }
            return new Dataset(pixels, l, h, w);
        } catch (IOException e) {
            throw bad(images, e.getMessage());
        }
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new CleaveException(ErrorCode.NOT_FOUND, "no " + base + "[.gz] in " + dir);
    }

    private static DataInputStream open(Path p) throws IOException {
        InputStream in = Files.newInputStream(p);
        if (p.toString().endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
    }

    private static CleaveException bad(Path p, String why) {
        return new CleaveException(ErrorCode.INVALID_ARGUMENT, "IDX file " + p + ": " + why);
    }
}
