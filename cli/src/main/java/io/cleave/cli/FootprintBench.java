package io.cleave.cli;

import com.google.gson.GsonBuilder;
import com.google.protobuf.ByteString;
import io.cleave.core.pack.ModelPack;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What an edge agent costs a device before and while it answers: a real {@code cleave edge --serve}
 * child process per pack, timed from its start to its first answer on the device API, then its
 * resident memory after warm requests, read from {@code /proc/PID/status}.
 */
@Command(name = "footprint", mixinStandardHelpOptions = true,
        description = "Edge-agent footprint, the default pack beside --pack: a real `cleave edge --serve` child process (the whole model "
                + "on the device, no worker) timed from process start to listening and to its first answer on the device API (one "
                + "prepared image), then VmRSS and VmHWM from /proc/PID/status after more sequential requests. Prints both and the ratio.")
final class FootprintBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--requests", defaultValue = "${env:CLEAVE_BENCH_FOOTPRINT_REQUESTS:-200}",
            description = "sequential requests after the first, before reading the "
            + "memory (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_FOOTPRINT_REQUESTS)")
    int requests;

    @Option(names = "--warm-up-ms", defaultValue = "${env:CLEAVE_BENCH_FOOTPRINT_WARM_UP_MS:-0}",
            description = "the edge's own --warm-up-ms; 0: local passes only, "
            + "the quickest start; the edge's default, 10000, warms the whole path until the JIT settles before it listens "
            + "(default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_FOOTPRINT_WARM_UP_MS)")
    long warmUpMs;

    @Option(names = "--java-opts", defaultValue = "${env:CLEAVE_JAVA_OPTS}", description = "JVM options of the edge process, "
            + "space-separated, as the launcher reads them (default: none, the JVM's own heap sizing; env CLEAVE_JAVA_OPTS)")
    String javaOpts;

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    /** One edge process's numbers. */
    record Footprint(String pack, boolean trained, long diskBytes, double listeningMs, double firstAnswerMs, long rssKiB, long hwmKiB) {}

    @Override
    public Integer call() throws Exception {
        if (requests < 0) {
            throw new IllegalArgumentException("--requests must be >= 0, got " + requests);
        }
        List<Path> packs = new ArrayList<>(List.of(Paths.defaultPack()));
        if (packOptions.pack != null && !Files.isSameFile(packOptions.pack(), Paths.defaultPack())) {
            packs.add(packOptions.pack());
        }
        warmClient();
        List<Footprint> rows = new ArrayList<>();
        for (Path p : packs) {
            rows.add(measure(p));
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("threads", packOptions.threads);
            out.put("warmUpMs", warmUpMs);
            out.put("requests", requests);
            out.put("javaOpts", javaOpts == null ? "" : javaOpts);
            out.put("rows", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
            return 0;
        }
        System.out.printf(Locale.ROOT, "edge footprint: one `cleave edge --serve` child process per pack, whole model on the device, no worker, "
                + "%d ORT thread(s), --warm-up-ms %d, JVM options: %s; memory after %d more sequential requests%n", packOptions.threads,
                warmUpMs, javaOpts == null || javaOpts.isBlank() ? "(none)" : javaOpts, requests);
        for (Path p : packs) {
            Untrained.print(System.out, ModelPack.load(p));
        }
        StringBuilder head = new StringBuilder(String.format("%-34s", ""));
        rows.forEach(r -> head.append(String.format("%16s", r.pack())));
        if (rows.size() == 2) {
            head.append(String.format("%9s", "ratio"));
        }
        System.out.println(head);
        line("pack on disk (MB)", rows.stream().mapToDouble(r -> r.diskBytes() / 1e6).toArray());
        line("start to listening (ms)", rows.stream().mapToDouble(Footprint::listeningMs).toArray());
        line("start to first answer (ms)", rows.stream().mapToDouble(Footprint::firstAnswerMs).toArray());
        line("VmRSS after the requests (MiB)", rows.stream().mapToDouble(r -> r.rssKiB() / 1024.0).toArray());
        line("VmHWM, peak resident (MiB)", rows.stream().mapToDouble(r -> r.hwmKiB() / 1024.0).toArray());
        return 0;
    }

    private static void line(String name, double[] v) {
        StringBuilder s = new StringBuilder(String.format("%-34s", name));
        for (double x : v) {
            s.append(String.format(Locale.ROOT, "%16.1f", x));
        }
        if (v.length == 2) {
            s.append(String.format(Locale.ROOT, "%8.2fx", v[1] / v[0]));
        }
        System.out.println(s);
    }

    private Footprint measure(Path packDir) throws Exception {
        ModelPack pack = ModelPack.load(packDir);
        byte[] image = BenchInputs.images(pack, 1).get(0);
        List<String> jvm = javaOpts == null || javaOpts.isBlank() ? List.of() : Arrays.asList(javaOpts.strip().split("\\s+"));
        try (CleaveChild edgeProcess = CleaveChild.start(List.of(), jvm, "edge", List.of("--serve", "--host", "127.0.0.1", "--port", "0",
                "--metrics-port", "0", "--pack", packDir.toAbsolutePath().toString(), "--threads", String.valueOf(packOptions.threads),
                "--k-max", String.valueOf(pack.blockCount()), "--warm-up-ms", String.valueOf(warmUpMs)), TimeUnit.MINUTES.toMillis(5))) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edgeProcess.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub edge = EdgeAgentGrpc.newBlockingStub(ch);
                ClassifyRequest req = ClassifyRequest.newBuilder().setRequestId("footprint").setImage(ByteString.copyFrom(image))
                        .setDeadlineMs(60_000).build();
                ClassifyResponse first = edge.withDeadlineAfter(2, TimeUnit.MINUTES).classify(req);
                long answered = System.nanoTime();
                if (first.getProbabilitiesCount() != pack.manifest().labels().size()) {
                    throw new IllegalStateException("the edge's first answer has " + first.getProbabilitiesCount() + " probabilities for "
                            + pack.manifest().labels().size() + " classes");
                }
                for (int i = 0; i < requests; i++) {
                    edge.withDeadlineAfter(2, TimeUnit.MINUTES).classify(req);
                }
                ProcMemory mem = ProcMemory.of(edgeProcess.pid());
                long t0 = edgeProcess.startedNanos();
                return new Footprint(pack.id(), pack.trained(), diskBytes(packDir), (edgeProcess.listeningNanos() - t0) / 1e6, (answered - t0) / 1e6,
                        mem.rssKiB(), mem.hwmKiB());
            } finally {
                ch.shutdownNow();
            }
        }
    }

    private static long diskBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /**
     * One health check against a throwaway server in this JVM first, so that the first edge's time to
     * its first answer does not include this client's own class loading.
     */
    private static void warmClient() throws Exception {
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new HealthStatusManager().getHealthService()).build().start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.getPort()).usePlaintext().build();
        try {
            HealthGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
            EdgeAgentGrpc.newBlockingStub(ch); // the device API's classes
            ClassifyRequest.newBuilder().setImage(ByteString.copyFrom(new byte[16])).build().toByteArray();
        } finally {
            ch.shutdownNow();
            s.shutdownNow();
        }
    }
}
