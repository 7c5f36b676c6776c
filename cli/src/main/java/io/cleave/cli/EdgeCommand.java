package io.cleave.cli;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.edge.DeviceClass;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.edge.image.ImageOutcome;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

    @Option(names = "--serve", defaultValue = "${env:CLEAVE_EDGE_SERVE:-false}", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "serve the EdgeAgent gRPC API until interrupted (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_SERVE)")
    boolean serve;

    @Option(names = "--host", defaultValue = "${env:CLEAVE_EDGE_HOST:-" + EdgeConfig.DEFAULT_HOST + "}",
            description = "with --serve: bind address of the device API (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_HOST)")
    String host;

    @Option(names = "--port", defaultValue = "${env:CLEAVE_EDGE_PORT:-" + EdgeConfig.DEFAULT_PORT + "}",
            description = "with --serve: port of the device API; 0 picks a free one (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_PORT)")
    int port;

    @Option(names = "--coordinator", defaultValue = "${env:CLEAVE_COORDINATOR}",
            description = "coordinator host:port: follow its load-aware worker assignment (the first --worker is used until then); "
                    + "comma-separated replicas are asked in turn, the next when one cannot be reached (default: none; env CLEAVE_COORDINATOR)")
    String coordinator;

    @Option(names = "--via", defaultValue = "${env:CLEAVE_EDGE_VIA}",
            description = "reach every worker through this HTTP CONNECT proxy host:port, e.g. a `cleave link` emulating this device's network "
                    + "(default: none, direct; env CLEAVE_EDGE_VIA)")
    String via;

    @Option(names = "--slowdown", defaultValue = "${env:CLEAVE_EDGE_SLOWDOWN:-1}", // EdgeConfig.DEFAULT_SLOWDOWN, as the help prints it
            description = "emulate a slower device class: local compute takes this many times as long (default: ${DEFAULT-VALUE}; "
                    + "env CLEAVE_EDGE_SLOWDOWN)")
    double slowdown;

    @Option(names = "--device-class", defaultValue = "${env:CLEAVE_EDGE_DEVICE_CLASS}",
            description = "emulate a named device class, calibrated from published measurements (sets k_max and the slowdown): "
                    + "this-machine, pi4, pi5, phone; `cleave bench device` shows each one's source "
                    + "(default: none, this machine as it is, with --k-max and --slowdown; env CLEAVE_EDGE_DEVICE_CLASS)")
    String deviceClass;

    @Mixin
    MetricsOptions metrics;

    @Mixin
    TlsOptions tlsOptions;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Option(names = "--warm-up-ms", defaultValue = "${env:CLEAVE_EDGE_WARM_UP_MS:-" + EdgeConfig.DEFAULT_WARM_UP_MILLIS + "}",
            description = "at most this long warming the whole path (offloads included) until the JIT settles, before taking traffic; "
                    + "0: local passes only (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_WARM_UP_MS)")
    long warmUpMs;

    @Option(names = "--images", defaultValue = "${env:CLEAVE_EDGE_IMAGES:-0}",
            description = "classify the first N committed test images (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_IMAGES)")
    int images;

    @Option(names = "--concurrency", defaultValue = "${env:CLEAVE_EDGE_CONCURRENCY:-" + EdgeConfig.DEFAULT_CONCURRENCY + "}",
            description = "requests in flight (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_CONCURRENCY)")
    int concurrency;

    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "JPEG or PNG files, prepared as the pack's manifest says "
            + "(a version-1 pack: grayscale, shorter side resized to its input, centre crop; each answer says what was done); "
            + "deadline " + FILES_DEADLINE_MS + " ms, decoding included, unless --deadline-ms is given")
    List<Path> files;

    /**
     * The deadline for image files unless one is given: a one-shot process decodes its first photos
     * cold (a 640x427 JPEG: 80 ms, then 25, 10, 6 ms here after the intake's warm-up), past the
     * streaming default of 30 ms that includes decoding.
     */
    static final long FILES_DEADLINE_MS = 1000;

    @Option(names = "--top-k", defaultValue = "${env:CLEAVE_EDGE_TOP_K:-3}",
            description = "with image files: print the N most probable labels (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_TOP_K)")
    int topK;

    @Option(names = "--json", description = "with image files: print one JSON object per file (one a line) (default: off)")
    boolean json;

    @Option(names = "--api-token-file", defaultValue = "${env:CLEAVE_API_TOKEN_FILE}", paramLabel = "FILE",
            description = "with --serve: every device-API call must carry 'authorization: Bearer <the file's first line>'; required when "
                    + "--host is not loopback (or the token itself in env CLEAVE_API_TOKEN) (default: none; env CLEAVE_API_TOKEN_FILE)")
    java.nio.file.Path apiTokenFile;

    /** The device-API token: --api-token-file's first line, else CLEAVE_API_TOKEN, else none; checked. */
    String apiToken() throws java.io.IOException {
        String token = null;
        if (apiTokenFile != null) {
            if (!java.nio.file.Files.isReadable(apiTokenFile)) {
                throw new IllegalArgumentException("--api-token-file " + apiTokenFile + ": not a readable file");
            }
            token = java.nio.file.Files.readAllLines(apiTokenFile).stream().findFirst().orElse("").strip();
        } else if (System.getenv("CLEAVE_API_TOKEN") != null) {
            token = System.getenv("CLEAVE_API_TOKEN").strip();
        }
        if (token == null) {
            if (serve && !TlsOptions.loopback(host)) {
                throw new IllegalArgumentException("--host " + host + ": the device API would serve anyone who reaches it; give it a token "
                        + "(--api-token-file FILE or env CLEAVE_API_TOKEN; clients send 'authorization: Bearer <token>') or serve on "
                        + "127.0.0.1");
            }
            return null;
        }
        try {
            return io.cleave.core.security.BearerToken.check(token);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((apiTokenFile != null ? "--api-token-file " + apiTokenFile : "CLEAVE_API_TOKEN") + ": "
                    + e.getMessage());
        }
    }

    @Mixin LogOptions logs = new LogOptions();

    @Override
    public Integer call() throws Exception {
        if (config.printIfAsked(spec)) {
            return 0;
        }
        logs.apply();
        if (!serve && spec.commandLine().getParseResult().hasMatchedOption("--metrics-port")) {
            throw new IllegalArgumentException("--metrics-port serves the metrics of an edge that serves its API: it needs --serve");
        }
        DeviceClass device = deviceClass();
        if (device != null) {
            planOptions.kMax = device.kMax();
            slowdown = device.slowdown();
        }
        var parsed = spec.commandLine().getParseResult();
        planOptions.check(parsed, io.cleave.core.pack.ModelPack.load(packOptions.pack()));
        if (coordinator != null) {
            io.cleave.core.net.HostPort.parseList(coordinator, "--coordinator");
        }
        if (parsed.hasMatchedOption("--images") && images < 1) {
            throw new IllegalArgumentException("--images must be at least 1, got " + images);
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("--concurrency must be at least 1, got " + concurrency);
        }
        if (!(slowdown >= 1)) {
            throw new IllegalArgumentException("--slowdown must be at least 1 (an emulated device is never faster than this one), got " + slowdown);
        }
        EdgeConfig cfg = EdgeConfig.builder(packOptions.pack()).kMax(planOptions.kMax).threads(packOptions.threads)
                .workers(planOptions.workers()).plan(planOptions.plan()).concurrency(Math.max(1, concurrency)).host(host).port(port)
                .policy(planOptions.policy).coordinator(coordinator).via(via).slowdown(slowdown).warmUpMillis(Math.max(0, warmUpMs))
                .device(device == null ? null : device.name()).jpegQuality(planOptions.jpegQuality)
                .metricsPort(serve ? metrics.port(MetricsOptions.EDGE_PORT) : io.cleave.core.metrics.Metrics.OFF).tls(tlsOptions.tls("edge")).apiToken(serve ? apiToken() : null).build();
        if (!cfg.workers().isEmpty() || cfg.coordinator() != null) {
            tlsOptions.requireChoice("edge", null); // its device API has its own guard (loopback, or a token); no component calls it
        }
        try (EdgeServer edge = EdgeServer.start(cfg, null, serve)) {
            if (serve) {
                MetricsOptions.announce("edge", edge.metricsAddress());
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
                boolean deadlineGiven = parsed.hasMatchedOption("--deadline-ms") || System.getenv("CLEAVE_DEADLINE_MS") != null;
                return classifyFiles(edge, deadlineGiven ? budget : TimeUnit.MILLISECONDS.toNanos(FILES_DEADLINE_MS));
            }
            Dataset ds = IdxReader.read(Paths.defaultData(), "t10k");
            int n = images > 0 ? Math.min(images, ds.size()) : 1000;
            Untrained.print(System.out, edge.agent().pack());
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

    /**
     * Each file through the edge's image intake, as the gRPC API takes encoded images: one report per
     * file; a file that cannot be read, decoded or answered is one line on stderr naming it, and the
     * command then exits 2.
     */
    private int classifyFiles(EdgeServer edge, long budget) throws InterruptedException {
        if (topK < 1) {
            throw new IllegalArgumentException("--top-k must be >= 1, got " + topK);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int failed = 0;
        for (Path f : files) {
            try {
                byte[] bytes = read(f, edge.intake().limits().maxBytes());
                ImageOutcome r = edge.intake().classify(f.getFileName().toString(), bytes, budget)
                        .get(budget + TimeUnit.SECONDS.toNanos(10), TimeUnit.NANOSECONDS);
                out.print(json ? ImageReport.json(f, r, edge.agent().pack(), topK) + System.lineSeparator()
                        : ImageReport.text(f, r, edge.agent().pack(), topK));
                out.flush();
            } catch (ExecutionException | TimeoutException | IOException | CleaveException e) {
                err.println("cleave edge: " + f + ": " + problem(e));
                err.flush();
                failed++;
            }
        }
        return failed == 0 ? 0 : 2;
    }

    private static byte[] read(Path f, int maxBytes) throws IOException {
        try {
            if (Files.isDirectory(f)) {
                throw new IOException("is a directory, not an image file");
            }
            long size = Files.size(f);
            if (size > maxBytes) {
                throw CleaveException.invalid("file of " + size + " bytes is over the edge's limit of " + maxBytes + " bytes for one image");
            }
            return Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new IOException("no such file");
        } catch (AccessDeniedException e) {
            throw new IOException("permission denied");
        }
    }

    private static String problem(Exception e) {
        Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (c instanceof TimeoutException) {
            return "no answer within the deadline and 10 s more";
        }
        if (c instanceof CleaveException ce && ce.getMessage() != null && ce.getMessage().startsWith("no exit reachable")) {
            return ce.getMessage() + " (hold the blocks up to an exit with --k-max, or offload with --worker)";
        }
        if (c instanceof CleaveException ce && (ce.code() == ErrorCode.DEADLINE_EXCEEDED || ce.code() == ErrorCode.RESOURCE_EXHAUSTED)) {
            return ce.getMessage() + " (raise --deadline-ms)";
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
