package io.cleave.cli;

import java.nio.file.Path;

/** Where the committed pack and data live: under {@code cleave.home} (set by the launcher). */
final class Paths {
    private Paths() {}

    static Path home() {
        return Path.of(System.getProperty("cleave.home", System.getenv().getOrDefault("CLEAVE_HOME", ".")));
    }

    static Path defaultPack() {
        return home().resolve("onnx-models/packs/fmnist-vit8");
    }

    static Path defaultData() {
        return home().resolve("onnx-models/data");
    }
}
