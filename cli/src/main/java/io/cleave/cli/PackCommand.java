package io.cleave.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Makes a named pack too large to commit (random weights, reproducible), e.g. for the 224x224 benchmarks. */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = "Make a named random-weights pack with onnx-models/import_vit.py (needs /usr/bin/python3 with PyTorch): "
                + "deit-s (DeiT-Small geometry, 224x224, exits after blocks 2, 4, 6, 9 and 12; 132 MB) or deit-tiny. "
                + "Reuses the pack if already made. Prints the pack's folder.")
final class PackCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "deit-s or deit-tiny")
    String name;

    @Option(names = "--out", defaultValue = "${env:CLEAVE_PACK_OUT}",
            description = "pack folder (default: target/<id> in the project, e.g. target/deit-s-random; env CLEAVE_PACK_OUT)")
    Path out;

    @Option(names = "--force", description = "make it again even if it exists (default: off)")
    boolean force;

    @Option(names = "--python", defaultValue = "${env:CLEAVE_PYTHON:-/usr/bin/python3}",
            description = "Python with PyTorch (default: ${DEFAULT-VALUE}; env CLEAVE_PYTHON)")
    String python;

    @Override
    public Integer call() throws Exception {
        PackMaker maker = new PackMaker(python, Paths.home());
        PackMaker.Recipe r = PackMaker.recipe(name);
        System.out.println(maker.make(r, out != null ? out : maker.defaultOut(r), force).toAbsolutePath());
        return 0;
    }
}
