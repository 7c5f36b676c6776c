package io.cleave.experiment;

import io.cleave.link.LinkConditions;
import java.nio.file.Path;
import java.util.List;

/**
 * One experiment: every trace x policy x deadline, each run streaming {@code images} test images
 * at {@code ratePerSecond} through a real edge agent and worker, the edge's link replaying the trace.
 *
 * @param kMax blocks the emulated device holds (the device class; labelled in every report)
 * @param slowdown the emulated device's compute is this many times slower than this machine's (1: as is)
 * @param conditions delay, loss and outages added to every run's link
 */
public record ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
        double ratePerSecond, int kMax, int threads, Path out, double slowdown, LinkConditions conditions) {

    public ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
            double ratePerSecond, int kMax, int threads, Path out) {
        this(pack, data, traces, policies, deadlinesMs, images, ratePerSecond, kMax, threads, out, 1, LinkConditions.CLEAN);
    }

    /** The device class, as every report labels it. */
    String deviceLabel() {
        return "emulated device class: holds k_max=" + kMax + " blocks, " + threads + " ONNX Runtime thread(s), on this machine's CPU"
                + (slowdown > 1 ? String.format(java.util.Locale.ROOT, " slowed %.1fx", slowdown) : "") + " (not a real device)";
    }
}
