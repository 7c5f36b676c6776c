package io.cleave.cli;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.edge.DeviceClass;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.edge.race.Candidate;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Runs an edge agent: classifies files or the test set, or serves its gRPC API. */
@Command(name = "edge", mixinStandardHelpOptions = true,
        description = "Run an edge agent. With image files: classify them. With --images N: stream the committed test set. "
                + "With --serve: serve the gRPC API for device applications.")
final class EdgeCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions;

    @Mixin
    PlanOptions planOptions;

    @Option(names = "--serve", description = "serve the EdgeAgent gRPC API until interrupted")
    boolean serve;

    @Option(names = "--host", defaultValue = "${env:CLEAVE_EDGE_HOST:-127.0.0.1}")
    String host;

    @Option(names = "--port", defaultValue = "${env:CLEAVE_EDGE_PORT:-0}")
    int port;

    @Option(names = "--coordinator", defaultValue = "${env:CLEAVE_COORDINATOR}",
            description = "coordinator host:port: follow its load-aware worker assignment (the first --worker is used until then)")
    String coordinator;

    @Option(names = "--via", defaultValue = "${env:CLEAVE_EDGE_VIA}",
            description = "reach every worker through this HTTP CONNECT proxy host:port, e.g. a `cleave link` emulating this device's network")
    String via;

    @Option(names = "--slowdown", defaultValue = "${env:CLEAVE_EDGE_SLOWDOWN:-1}",
            description = "emulate a slower device class: local compute takes this many times as long (default: ${DEFAULT-VALUE})")
    double slowdown;

    @Option(names = "--device-class", defaultValue = "${env:CLEAVE_EDGE_DEVICE_CLASS}",
            description = "emulate a named device class, calibrated from published measurements (sets k_max and the slowdown): "
                    + "this-machine, pi4, pi5, phone; `cleave bench device` shows each one's source (env CLEAVE_EDGE_DEVICE_CLASS)")
    String deviceClass;

    @Spec
    CommandSpec spec;

    @Option(names = "--warm-up-ms", defaultValue = "${env:CLEAVE_EDGE_WARM_UP_MS:-10000}",
            description = "at most this long warming the whole path (offloads included) until the JIT settles, before taking traffic; "
                    + "0: local passes only (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_WARM_UP_MS)")
    long warmUpMs;

    @Option(names = "--images", description = "classify the first N committed test images", defaultValue = "0")
    int images;

    @Option(names = "--concurrency", defaultValue = "4", description = "requests in flight (default: ${DEFAULT-VALUE})")
    int concurrency;

    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "image files (PNG, JPEG, BMP, GIF), scaled to the model's input")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        DeviceClass device = deviceClass();
        if (device != null) {
            planOptions.kMax = device.kMax();
            slowdown = device.slowdown();
        }
        EdgeConfig cfg = new EdgeConfig(packOptions.pack(), planOptions.kMax, packOptions.threads, planOptions.workers(),
                planOptions.plan(), Math.max(1, concurrency), host, port, 2000, planOptions.policy, coordinator, via, slowdown)
                .withWarmUpMillis(Math.max(0, warmUpMs)).withDevice(device == null ? null : device.name());
        try (EdgeServer edge = EdgeServer.start(cfg, null, serve)) {
            if (serve) {
                System.out.println("cleave edge listening on " + host + ":" + edge.port() + " (policy " + cfg.policy() + ", "
                        + (device != null ? "device " + device.describe() : "k_max " + cfg.kMax()
                                + (slowdown > 1 ? ", emulated device " + slowdown + "x slower" : ""))
                        + (via != null ? ", via link " + via : "") + ")");
                System.out.flush();
                edge.awaitTermination();
                return 0;
            }
            long budget = (long) (planOptions.deadlineMs * 1e6);
            if (files != null && !files.isEmpty()) {
                for (Path f : files) {
                    Outcome o = edge.agent().classify(f.getFileName().toString(), readImage(f, edge), budget).get(10, TimeUnit.SECONDS);
                    Candidate c = o.answer().candidate();
                    System.out.printf("%s: %s (%.1f%%) exit %d block %d %s in %.2f ms%s%n", f, edge.agent().pack().manifest().labels()
                            .get(c.predictedClass()), 100 * c.confidence(), c.exit(), c.block(), c.cloud() ? "cloud" : "local",
                            o.answer().latencyNanos() / 1e6, o.answer().deadlineMet() ? "" : " (late)");
                }
                return 0;
            }
            Dataset ds = IdxReader.read(Paths.defaultData(), "t10k");
            int n = images > 0 ? Math.min(images, ds.size()) : 1000;
            System.out.printf("edge: k_max=%d, %s, deadline %.1f ms, %d test images%n", planOptions.kMax, cfg.plan(), planOptions.deadlineMs, n);
            TestSetRunner.run(edge.agent(), ds, n, planOptions.deadlineMs, concurrency).print(System.out);
            if (edge.planner() != null && edge.planner().last() != null) {
                System.out.println("last plan: " + edge.planner().last());
                System.out.println("planned on: " + edge.planner().lastCosts());
            }
            return 0;
        }
    }

    /** The named device class, if one was given; it and --k-max/--slowdown on the command line are exclusive. */
    private DeviceClass deviceClass() {
        if (deviceClass == null || deviceClass.isBlank()) {
            return null;
        }
        var parsed = spec.commandLine().getParseResult();
        if (parsed.hasMatchedOption("--k-max") || parsed.hasMatchedOption("--slowdown")) {
            throw new IllegalArgumentException("--device-class " + deviceClass + " sets k_max and the slowdown: give it or --k-max/--slowdown, "
                    + "not both");
        }
        return DeviceClass.named(deviceClass);
    }

    /** Reads an image file as grayscale pixels at the model's input size. */
    static byte[] readImage(Path f, EdgeServer edge) throws IOException {
        BufferedImage img = ImageIO.read(f.toFile());
        if (img == null) {
            throw new IOException(f + " is not an image format Java can read (PNG, JPEG, BMP, GIF)");
        }
        List<Integer> shape = edge.agent().pack().manifest().input().shape();
        int h = shape.get(1);
        int w = shape.get(2);
        BufferedImage gray = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        gray.getGraphics().drawImage(img, 0, 0, w, h, null);
        byte[] px = new byte[h * w];
        gray.getRaster().getDataElements(0, 0, w, h, px);
        return px;
    }
}
