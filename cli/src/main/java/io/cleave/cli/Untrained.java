package io.cleave.cli;

import io.cleave.core.pack.ModelPack;
import java.io.PrintStream;

/**
 * How every report says that it was made with an untrained pack (manifest {@code "trained": false},
 * random weights made for timing and bytes): one header line in text, and {@code "trained"} in JSON
 * beside the pack's id.
 */
final class Untrained {
    private Untrained() {}

    /** The header line for an untrained pack, e.g. "pack deit-s-random 0.1.0 (untrained: random weights, timing and bytes only)". */
    static String line(ModelPack pack) {
        return "pack " + pack.id() + " " + pack.version() + " (untrained: random weights, timing and bytes only)";
    }

    /** Prints {@link #line} when the pack is untrained; nothing for a trained one. */
    static void print(PrintStream out, ModelPack pack) {
        if (!pack.trained()) {
            out.println(line(pack));
        }
    }
}
