package io.cleave.core.testing;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.pack.ModelPack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The committed model pack and test set, located through the build's system properties. */
public final class TestPacks {
    private static ModelPack pack;
    private static Dataset testSet;

    private TestPacks() {}

    public static Path packDir() {
        return Path.of(System.getProperty("cleave.pack", "../onnx-models/packs/fmnist-vit8"));
    }

    public static Path dataDir() {
        return Path.of(System.getProperty("cleave.data", "../onnx-models/data"));
    }

    public static synchronized ModelPack pack() {
        if (pack == null) {
            pack = ModelPack.load(packDir());
        }
        return pack;
    }

    public static synchronized Dataset testSet() {
        if (testSet == null) {
            testSet = IdxReader.read(dataDir(), "t10k");
        }
        return testSet;
    }

    /** A writable copy of the committed pack, for tests that break it on purpose. */
    public static Path copyPack(Path into) {
        try (Stream<Path> files = Files.walk(packDir())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path dst = into.resolve(packDir().relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(f, dst);
                }
            }
            return into;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
