package io.cleave.cli;

import picocli.CommandLine.Command;

/** Benchmarks; each prints its comparison side by side in one run, with --json for machines. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks, ratios side by side in one run. Without a subcommand: the engine vs PyTorch.",
        subcommands = {EngineBench.class, StreamBench.class, BatchingBench.class, OverheadBench.class, FootprintBench.class, BytesBench.class,
                DeviceBench.class, ImageBench.class, SoakBench.class, CoordinatorBench.class, RoundTripBench.class, ReductionBench.class, PlannerBench.class})
final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(new EngineBench()).execute();
    }
}
