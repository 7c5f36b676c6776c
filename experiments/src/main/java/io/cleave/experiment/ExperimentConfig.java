package io.cleave.experiment;

import io.cleave.link.LinkConditions;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

/**
 * One experiment: every trace x device x policy x deadline, each run streaming {@code images} test
 * images at {@code ratePerSecond} through a real edge agent and worker, the edge's link replaying the trace.
 *
 * @param devices the emulated device classes (labelled in every row and table); at least one, labels distinct
 * @param conditions delay, loss and outages added to every run's link
 */
public record ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
        double ratePerSecond, List<Device> devices, int threads, Path out, LinkConditions conditions) {

    public ExperimentConfig {
        devices = List.copyOf(devices);
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("an experiment needs at least one device");
        }
        var labels = new HashSet<String>();
        for (Device d : devices) {
            if (!labels.add(d.label())) {
                throw new IllegalArgumentException("two devices are labelled '" + d.label() + "'");
            }
        }
    }

    /** One device, given as blocks held and compute slowdown (the {@code --k-max}/{@code --slowdown} options). */
    public ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
            double ratePerSecond, int kMax, int threads, Path out, double slowdown, LinkConditions conditions) {
        this(pack, data, traces, policies, deadlinesMs, images, ratePerSecond, List.of(Device.of(kMax, slowdown)), threads, out, conditions);
    }

    public ExperimentConfig(Path pack, Path data, List<Path> traces, List<String> policies, List<Double> deadlinesMs, int images,
            double ratePerSecond, int kMax, int threads, Path out) {
        this(pack, data, traces, policies, deadlinesMs, images, ratePerSecond, kMax, threads, out, 1, LinkConditions.CLEAN);
    }

    /** Runs in the whole experiment. */
    int runs() {
        return traces.size() * devices.size() * policies.size() * deadlinesMs.size();
    }
}
