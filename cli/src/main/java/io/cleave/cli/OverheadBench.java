package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.security.Role;
import io.cleave.core.security.Tls;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Candidate;
import io.cleave.experiment.Progress;
import io.cleave.proto.v1.Encoding;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Per-request framework overhead: end-to-end minus compute minus transfer, on loopback. */
@Command(name = "overhead", mixinStandardHelpOptions = true,
        description = "Per-request framework overhead of a split request (edge computes to block 2, sends fp16 tokens, the "
                + "worker computes the rest): end-to-end latency minus edge compute before sending, minus worker compute, "
                + "minus transfer (worker-side receive time). Sequential requests on loopback; p50 and p99; with --tls, plaintext "
                + "and mutual TLS side by side.")
final class OverheadBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--requests", defaultValue = "${env:CLEAVE_BENCH_OVERHEAD_REQUESTS:-3000}",
            description = "measured sequential requests (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_OVERHEAD_REQUESTS)") int requests;
    @Option(names = "--warmup", defaultValue = "${env:CLEAVE_BENCH_OVERHEAD_WARMUP:-15000}",
            description = "requests before measuring; on 2 cores the JIT needs about "
            + "30 s of this traffic before the tail settles (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_OVERHEAD_WARMUP)") int warmup;
    @Option(names = "--json", description = "print the result as JSON (default: off)") boolean json;

    @Option(names = "--tls", defaultValue = "${env:CLEAVE_BENCH_OVERHEAD_TLS:-false}", arity = "0..1", fallbackValue = "true",
            paramLabel = "true|false", description = "also measure an edge and a worker talking mutual TLS (development certificates made "
            + "for the run), after the plaintext pair, and print both and the difference (default: ${DEFAULT-VALUE}; env "
            + "CLEAVE_BENCH_OVERHEAD_TLS)") boolean tls;

    /** Sorted per-request latencies of one measurement, in nanoseconds. */
    record Measured(long[] e2e, long[] compute, long[] overhead) {}

    @Override
    public Integer call() throws Exception {
        if (requests < 1 || warmup < 0) {
            throw new IllegalArgumentException(requests < 1 ? "--requests must be at least 1, got " + requests
                    : "--warmup must be >= 0, got " + warmup);
        }
        ModelPack pack = ModelPack.load(packOptions.pack());
        List<byte[]> images = BenchInputs.images(pack, 10_000);
        Measured plain = measure("requests" + (tls ? ", plaintext" : ""), images, Tls.PLAINTEXT, Tls.PLAINTEXT);
        Measured secure = null;
        if (tls) {
            java.nio.file.Path certs = DevCertificates.temporary(List.of(Role.WORKER, Role.EDGE));
            secure = measure("requests, mutual TLS", images, Tls.fromDirectory(certs, "worker"), Tls.fromDirectory(certs, "edge"));
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("trained", pack.trained());
            out.put("requests", requests);
            put(out, "", plain);
            if (secure != null) {
                put(out, "tls", secure);
            }
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
            return 0;
        }
        Untrained.print(System.out, pack);
        System.out.printf("per-request framework overhead, pack %s, %d sequential split requests (block 2, fp16), loopback%s%n",
                pack.id(), requests, secure == null ? "" : "; plaintext, then mutual TLS (each after its own warm-up)");
        System.out.printf("%-26s %9s %9s%s%n", "", "p50 us", "p99 us", secure == null ? "" : String.format("%12s %11s %13s",
                "TLS p50 us", "TLS p99 us", "TLS-plain p50"));
        row("end to end", plain.e2e(), secure == null ? null : secure.e2e());
        row("compute (edge + worker)", plain.compute(), secure == null ? null : secure.compute());
        row("framework overhead", plain.overhead(), secure == null ? null : secure.overhead());
        return 0;
    }

    private static void put(Map<String, Object> out, String prefix, Measured m) {
        out.put(key(prefix, "e2eP50Us"), Percentiles.of(m.e2e(), 50) / 1e3);
        out.put(key(prefix, "e2eP99Us"), Percentiles.of(m.e2e(), 99) / 1e3);
        out.put(key(prefix, "computeP50Us"), Percentiles.of(m.compute(), 50) / 1e3);
        out.put(key(prefix, "overheadP50Us"), Percentiles.of(m.overhead(), 50) / 1e3);
        out.put(key(prefix, "overheadP99Us"), Percentiles.of(m.overhead(), 99) / 1e3);
    }

    /** "e2eP50Us", or with a prefix "tlsE2eP50Us". */
    private static String key(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }

    private static void row(String name, long[] plain, long[] secure) {
        System.out.printf("%-26s %9.0f %9.0f", name, Percentiles.of(plain, 50) / 1e3, Percentiles.of(plain, 99) / 1e3);
        if (secure != null) {
            System.out.printf("%12.0f %11.0f %13.0f", Percentiles.of(secure, 50) / 1e3, Percentiles.of(secure, 99) / 1e3,
                    (Percentiles.of(secure, 50) - Percentiles.of(plain, 50)) / 1e3);
        }
        System.out.println();
    }

    private Measured measure(String task, List<byte[]> images, Tls workerTls, Tls edgeTls) throws Exception {
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).shutdownGraceMillis(1000).tls(workerTls).build();
        long[] e2e = new long[requests];
        long[] overhead = new long[requests];
        long[] compute = new long[requests];
        try (WorkerServer worker = WorkerServer.start(wc)) {
            Plan plan = new Plan(true, 2, Encoding.FP16, 2.0, 2);
            EdgeConfig ec = EdgeConfig.builder(packOptions.pack()).kMax(2).threads(packOptions.threads)
                    .workers(List.of("127.0.0.1:" + worker.port())).plan(plan).concurrency(1).shutdownGraceMillis(1000)
                    .policy(PolicyRegistry.FIXED).tls(edgeTls).build();
            try (EdgeServer edge = EdgeServer.start(ec, null, false); Progress bar = Progress.bar(task + " (warm-up first)", warmup + requests)) {
                for (int i = -warmup; i < requests; i++, bar.step()) {
                    Outcome o = edge.agent().classify("o" + i, images.get(Math.floorMod(i, images.size())), TimeUnit.SECONDS.toNanos(5))
                            .get(10, TimeUnit.SECONDS);
                    Candidate c = o.answer().candidate();
                    if (!c.cloud() || c.server() == null) {
                        throw new IllegalStateException("expected the final cloud exit to answer, got " + o.answer());
                    }
                    if (i < 0) {
                        continue;
                    }
                    e2e[i] = o.answer().latencyNanos();
                    compute[i] = o.edgeBeforeSendNanos() + c.server().computeNanos();
                    overhead[i] = e2e[i] - compute[i] - c.server().receiveNanos();
                }
            }
        }
        Arrays.sort(e2e);
        Arrays.sort(overhead);
        Arrays.sort(compute);
        return new Measured(e2e, compute, overhead);
    }
}
