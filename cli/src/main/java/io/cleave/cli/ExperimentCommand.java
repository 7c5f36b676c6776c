package io.cleave.cli;

import io.cleave.experiment.Device;
import io.cleave.experiment.ExperimentConfig;
import io.cleave.experiment.ExperimentRunner;
import io.cleave.experiment.RemoteExperiment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Trace x device x policy x deadline through a real worker and edge agent; CSV, JSON and Markdown reports. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "For each trace x device x policy x deadline: stream test images at a fixed rate through a real edge agent and "
                + "worker on loopback, the edge's link replaying the trace; write requests.csv, summary.json, summary.md and PNG plots. "
                + "With --edge: drive running edge agents (e.g. the docker-compose stack) instead.")
final class ExperimentCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--traces", defaultValue = "${env:CLEAVE_EXPERIMENT_TRACES}", description = "folder of traces (every trace file "
            + "below it) (default: a 3G, an LTE and a 5G trace from ../shared/traces; env CLEAVE_EXPERIMENT_TRACES)")
    Path tracesDir;

    @Option(names = "--trace", defaultValue = "${env:CLEAVE_EXPERIMENT_TRACE}",
            description = "a trace file, repeatable (default: none, only --traces; env CLEAVE_EXPERIMENT_TRACE, one file)")
    List<Path> traceFiles;

    @Option(names = "--policies", split = ",", defaultValue = "${env:CLEAVE_EXPERIMENT_POLICIES}", description = "policies to "
            + "compare; also fixed-N: a fixed split after block N (default: ${COMPLETION-CANDIDATES}; "
            + "env CLEAVE_EXPERIMENT_POLICIES)", completionCandidates = ExperimentPolicies.class)
    List<String> policies;

    /** The default policies, from the registry. */
    static final class ExperimentPolicies implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return io.cleave.core.plan.PolicyRegistry.experimentDefaults().iterator();
        }
    }

    @Option(names = "--deadlines-ms", split = ",", defaultValue = "${env:CLEAVE_EXPERIMENT_DEADLINES_MS:-20,50,100}",
            description = "deadlines to run each at (default: ${DEFAULT-VALUE}; env CLEAVE_EXPERIMENT_DEADLINES_MS)")
    List<Double> deadlines;

    @Option(names = "--images", defaultValue = "${env:CLEAVE_EXPERIMENT_IMAGES:-300}",
            description = "requests per run (default: ${DEFAULT-VALUE}; env CLEAVE_EXPERIMENT_IMAGES)")
    int images;

    @Option(names = "--rate", defaultValue = "${env:CLEAVE_EXPERIMENT_RATE:-50}",
            description = "requests per second (default: ${DEFAULT-VALUE}; env CLEAVE_EXPERIMENT_RATE)")
    double rate;

    @Option(names = "--k-max", defaultValue = "${env:CLEAVE_EXPERIMENT_K_MAX}", description = "blocks the emulated device holds; with "
            + "--slowdown, defines the one device when no --device is given (default: 4; env CLEAVE_EXPERIMENT_K_MAX)")
    Integer kMax;

    @Option(names = "--slowdown", defaultValue = "${env:CLEAVE_EXPERIMENT_SLOWDOWN}",
            description = "emulate a slower device class: local compute takes this many times as long (default: 1; "
                    + "env CLEAVE_EXPERIMENT_SLOWDOWN)")
    Double slowdown;

    @Option(names = "--device", split = ",", defaultValue = "${env:CLEAVE_EXPERIMENT_DEVICE}",
            description = "an emulated device class: a named one calibrated from published measurements "
            + "(this-machine, pi4, pi5, phone; see `cleave bench device`) or label:kMax:slowdown (repeat or comma-separate; e.g. --device "
            + "pi4 --device iot:2:2.5): every trace x device x policy x deadline is run, the label in every row and table (default: "
            + "one device, from --k-max and --slowdown; env CLEAVE_EXPERIMENT_DEVICE)")
    List<String> deviceSpecs;

    @Mixin
    LinkConditionOptions conditions = new LinkConditionOptions();

    @Option(names = "--edge", split = ",", defaultValue = "${env:CLEAVE_EXPERIMENT_EDGE}",
            description = "drive a running edge agent instead (name=host:port, repeat or comma-separate), e.g. the docker-compose "
            + "stack's; its own policy, link and workers are used, --traces and --policies are ignored; env CLEAVE_API_TOKEN: the token "
            + "edges exposed beyond loopback require (default: none, run edges in this process; env CLEAVE_EXPERIMENT_EDGE)")
    List<String> remoteEdges;

    @Option(names = "--out", defaultValue = "${env:CLEAVE_EXPERIMENT_OUT:-results/experiment}",
            description = "output folder (default: ${DEFAULT-VALUE}; env CLEAVE_EXPERIMENT_OUT)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (remoteEdges != null && !remoteEdges.isEmpty()) {
            new RemoteExperiment(remoteEdges.stream().map(RemoteExperiment.Edge::parse).toList(), Paths.defaultData(), deadlines, images, rate, out,
                    System.err).withApiToken(System.getenv("CLEAVE_API_TOKEN")).run();
            return report();
        }
        if (policies == null || policies.isEmpty()) {
            policies = io.cleave.core.plan.PolicyRegistry.experimentDefaults();
        }
        for (String p : policies) {
            if (!io.cleave.core.plan.PolicyRegistry.isExperimentPolicy(p)) {
                throw new IllegalArgumentException("unknown policy '" + p + "'; expected one of " + ExperimentRunner.POLICIES);
            }
        }
        List<Path> traces = new ArrayList<>();
        if (traceFiles != null) {
            traces.addAll(traceFiles);
        }
        if (tracesDir != null) {
            try (Stream<Path> s = Files.walk(tracesDir)) {
                s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().matches("(?i).*(readme|license|\\.txt|\\.md).*"))
                        .filter(f -> !f.toString().contains("LICENSES")).sorted().forEach(traces::add);
            }
        }
        if (traces.isEmpty()) {
            Path shared = Paths.home().resolve("../shared/traces");
            traces.addAll(List.of(shared.resolve("3g/mahimahi/TMobile-UMTS-driving.up"), shared.resolve("4g-lte/mahimahi/Verizon-LTE-short.up"),
                    shared.resolve("5g/lumos5g/5g_trace_22_driving")));
        }
        for (Path t : traces) {
            if (!Files.isRegularFile(t)) {
                throw new IllegalArgumentException("trace " + t + " does not exist");
            }
        }
        ExperimentConfig cfg = new ExperimentConfig(packOptions.pack(), Paths.defaultData(), traces, policies, deadlines, images, rate, devices(),
                packOptions.threads, out, conditions.conditions());
        new ExperimentRunner(cfg, System.err).run();
        return report();
    }

    /** The --device list, or the one device --k-max/--slowdown define. */
    List<Device> devices() {
        if (deviceSpecs == null || deviceSpecs.isEmpty()) {
            return List.of(Device.of(kMax == null ? 4 : kMax, slowdown == null ? 1 : slowdown));
        }
        if (kMax != null || slowdown != null) {
            throw new IllegalArgumentException("give devices with --device label:kMax:slowdown or one with --k-max/--slowdown, not both");
        }
        return deviceSpecs.stream().map(Device::parse).toList();
    }

    private int report() throws java.io.IOException {
        System.out.print(Files.readString(out.resolve("summary.md")));
        System.out.println("\nwrote " + out.toAbsolutePath() + ": requests.csv, summary.json, summary.md and PNG plots");
        return 0;
    }
}
