package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.edge.measure.LinkProber;
import io.cleave.edge.race.Candidate;
import io.cleave.experiment.Progress;
import io.cleave.link.LinkProxy;
import io.cleave.proto.v1.Encoding;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the edge's two views of the round trip read on the same link: the link prober's ping (an empty Probe stream on a
 * connection of its own, {@link LinkProber#pingOnce}) beside the request path's own round trip (a split request's
 * first cloud result, less the edge's work before sending and the worker's queueing and compute, as
 * {@code EdgeMeasurements.recordCloud} takes it). Pings and requests alternate, one at a time, through an in-process
 * link adding a fixed delay each way, to a worker in this JVM.
 */
@Command(name = "rtt", mixinStandardHelpOptions = true,
        description = "The round trip as the link prober's ping reads it beside the request path's own (first cloud result less "
                + "edge work before sending, worker queueing and compute), alternating one at a time through an in-process link "
                + "with --delay-ms each way to a worker in this JVM; p25/p50/p75 of each and the ratio of the medians per delay.")
final class RoundTripBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--delay-ms", split = ",", defaultValue = "${env:CLEAVE_BENCH_RTT_DELAY_MS:-0,5,10}",
            description = "one-way delays of the link, one measurement each (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_RTT_DELAY_MS)")
    List<Integer> delays;

    @Option(names = "--pairs", defaultValue = "${env:CLEAVE_BENCH_RTT_PAIRS:-200}",
            description = "measured ping/request pairs per delay (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_RTT_PAIRS)")
    int pairs;

    @Option(names = "--warmup", defaultValue = "${env:CLEAVE_BENCH_RTT_WARMUP:-1000}",
            description = "requests (and as many pings) before measuring, at the first delay (default: ${DEFAULT-VALUE}; env "
                    + "CLEAVE_BENCH_RTT_WARMUP)")
    int warmup;

    @Option(names = "--gap-ms", defaultValue = "${env:CLEAVE_BENCH_RTT_GAP_MS:-20}",
            description = "pause after each ping and each request (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_RTT_GAP_MS)")
    int gapMillis;

    @Option(names = "--json", description = "print the result as JSON (default: off)") boolean json;

    @Override
    public Integer call() throws Exception {
        if (pairs < 1 || warmup < 0 || gapMillis < 0 || delays.isEmpty() || delays.stream().anyMatch(d -> d < 0)) {
            throw new IllegalArgumentException(pairs < 1 ? "--pairs must be at least 1, got " + pairs
                    : warmup < 0 ? "--warmup must be >= 0, got " + warmup
                    : gapMillis < 0 ? "--gap-ms must be >= 0, got " + gapMillis : "--delay-ms must list delays >= 0, got " + delays);
        }
        ModelPack pack = ModelPack.load(packOptions.pack());
        List<byte[]> images = BenchInputs.images(pack, 10_000);
        List<Map<String, Object>> rows = new ArrayList<>();
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).shutdownGraceMillis(1000).build();
        try (WorkerServer worker = WorkerServer.start(wc);
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", worker.port()));
                WorkerClient probes = new WorkerClient(List.of("127.0.0.1:" + link.port()))) {
            Plan plan = new Plan(true, 2, Encoding.FP16, 2.0, 2);
            EdgeConfig ec = EdgeConfig.builder(packOptions.pack()).kMax(2).threads(packOptions.threads)
                    .workers(List.of("127.0.0.1:" + link.port())).plan(plan).concurrency(1).shutdownGraceMillis(1000)
                    .policy(PolicyRegistry.FIXED).build();
            try (EdgeServer edge = EdgeServer.start(ec, null, false)) {
                boolean first = true;
                for (int delay : delays) {
                    link.delay(Duration.ofMillis(delay));
                    int before = first ? warmup : Math.min(warmup, 50); // the JIT once; a few pairs to settle each new delay
                    first = false;
                    long[] ping = new long[pairs];
                    long[] request = new long[pairs];
                    try (Progress bar = Progress.bar("delay " + delay + " ms each way (warm-up first)", before + pairs)) {
                        for (int i = -before; i < pairs; i++, bar.step()) {
                            long p = ping(probes);
                            Thread.sleep(gapMillis);
                            long r = request(edge, images.get(Math.floorMod(i, images.size())), i);
                            Thread.sleep(gapMillis);
                            if (i >= 0) {
                                ping[i] = p;
                                request[i] = r;
                            }
                        }
                    }
                    Arrays.sort(ping);
                    Arrays.sort(request);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("delay_ms_each_way", delay);
                    row.put("ping_p25_ms", Percentiles.of(ping, 25) / 1e6);
                    row.put("ping_p50_ms", Percentiles.of(ping, 50) / 1e6);
                    row.put("ping_p75_ms", Percentiles.of(ping, 75) / 1e6);
                    row.put("request_p25_ms", Percentiles.of(request, 25) / 1e6);
                    row.put("request_p50_ms", Percentiles.of(request, 50) / 1e6);
                    row.put("request_p75_ms", Percentiles.of(request, 75) / 1e6);
                    row.put("ping_over_request_p50", Percentiles.of(ping, 50) / Percentiles.of(request, 50));
                    rows.add(row);
                }
            }
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("pairs", pairs);
            out.put("rows", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
            return 0;
        }
        System.out.printf("round trip, pack %s: the prober's ping beside the request path's own (split 2, fp16), %d alternating pairs per "
                + "delay, one at a time, %d ms apart; in-process link, worker in this JVM%n", pack.id(), pairs, gapMillis);
        System.out.printf("%12s %26s %26s %12s %12s%n", "delay/way", "ping p25/p50/p75 ms", "request p25/p50/p75 ms", "ping/request", "2 x delay");
        for (Map<String, Object> r : rows) {
            System.out.printf("%9d ms %12.1f /%5.1f /%5.1f %12.1f /%5.1f /%5.1f %11.2fx %9d ms%n", r.get("delay_ms_each_way"),
                    r.get("ping_p25_ms"), r.get("ping_p50_ms"), r.get("ping_p75_ms"), r.get("request_p25_ms"), r.get("request_p50_ms"),
                    r.get("request_p75_ms"), r.get("ping_over_request_p50"), 2 * (int) r.get("delay_ms_each_way"));
        }
        return 0;
    }

    /** One ping on the probe connection, as the prober sends it; nanoseconds. */
    private static long ping(WorkerClient probes) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        LinkProber.pingOnce(probes.probeChannel(), NanoClock.SYSTEM, done::complete);
        long t = done.get(10, TimeUnit.SECONDS);
        if (t < 0) {
            throw new IllegalStateException("a ping failed");
        }
        return t;
    }

    /** One split request; its first cloud result less the edge's work before sending and the worker's queueing and compute. */
    private static long request(EdgeServer edge, byte[] image, int i) throws Exception {
        long t0 = System.nanoTime();
        Outcome o = edge.agent().classify("r" + i, image, TimeUnit.SECONDS.toNanos(5)).get(10, TimeUnit.SECONDS);
        Candidate c = o.candidates().stream().filter(Candidate::cloud).findFirst()
                .orElseThrow(() -> new IllegalStateException("no cloud result: " + o.answer()));
        return c.arrivedNanos() - t0 - o.edgeBeforeSendNanos() - c.server().queueNanos() - c.server().computeNanos();
    }
}
