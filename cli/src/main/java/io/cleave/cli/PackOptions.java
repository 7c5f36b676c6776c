package io.cleave.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by every command that loads a pack. */
final class PackOptions {
    @Option(names = "--pack", description = "model pack folder (default: the committed pack; env CLEAVE_PACK)",
            defaultValue = "${env:CLEAVE_PACK}")
    Path pack;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}; env CLEAVE_THREADS)",
            defaultValue = "${env:CLEAVE_THREADS:-1}")
    int threads;

    Path pack() {
        return pack != null ? pack : Paths.defaultPack();
    }
}
