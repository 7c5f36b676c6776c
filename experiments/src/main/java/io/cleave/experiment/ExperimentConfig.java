package io.cleave.experiment;

import java.nio.file.Path;
import java.util.List;

/**
 * One experiment: every trace x policy x deadline, each run streaming {@code images} test images
 * at {@code ratePerSecond} through a real edge agent and worker, the edge's uplink replaying the trace.
 *
 * @param kMax blocks the emulated device holds (the device class; labelled in every report)
 */
public record ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
        double ratePerSecond, int kMax, int threads, Path out) {}
