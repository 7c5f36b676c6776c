package io.cleave.cli;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.image.ImageDecoder;
import io.cleave.core.pack.ModelPack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real inputs for the benchmarks, at any pack's input shape: the 8-bit pixels a device sends at
 * split 0 ({@code [C][H][W]}, prepared). A pack that declares a resize step (version 2, e.g.
 * 224x224 RGB) gets the committed photos prepared as its manifest says; a version-1 pack gets the
 * committed Fashion-MNIST test images.
 */
final class BenchInputs {
    /** The committed photos, as the edge and the parity tests use them. */
    static final List<String> PHOTOS = List.of("rocket.jpg", "chelsea.png");

    private BenchInputs() {}

    static Path photo(String name) {
        return Paths.home().resolve("core/src/test/resources/images").resolve(name);
    }

    /** Up to {@code max} prepared images (at least one) for this pack, each {@code input().size()} bytes. */
    static List<byte[]> images(ModelPack pack, int max) {
        List<byte[]> out = new ArrayList<>();
        if (pack.manifest().input().preprocessing().resize() != null) {
            Preprocessor prep = new Preprocessor(pack);
            for (String name : PHOTOS.subList(0, Math.min(max, PHOTOS.size()))) {
                out.add(prep.pixels(ImageDecoder.decode(read(photo(name)))));
            }
            return out;
        }
        Dataset ds = IdxReader.read(Paths.defaultData(), "t10k");
        if (ds.pixels() != pack.manifest().input().size()) {
            throw new IllegalArgumentException("pack " + pack.id() + " takes " + pack.manifest().input().shape() + " images without a "
                    + "resize step, and the committed test set's are " + ds.height() + "x" + ds.width() + ": no input for it");
        }
        for (int i = 0; i < Math.min(max, ds.size()); i++) {
            out.add(ds.image(i));
        }
        return out;
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the committed photo " + f + " (run from the project folder)", e);
        }
    }
}
