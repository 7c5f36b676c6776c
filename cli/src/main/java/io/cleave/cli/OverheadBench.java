package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Candidate;
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
                + "minus transfer (worker-side receive time). Sequential requests on loopback; p50 and p99.")
final class OverheadBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--requests", defaultValue = "3000") int requests;
    @Option(names = "--warmup", defaultValue = "15000", description = "requests before measuring; on 2 cores the JIT needs about "
            + "30 s of this traffic before the tail settles (default: ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--json") boolean json;

    @Override
    public Integer call() throws Exception {
        ModelPack pack = ModelPack.load(packOptions.pack());
        List<byte[]> images = BenchInputs.images(pack, 10_000);
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).shutdownGraceMillis(1000).build();
        long[] e2e = new long[requests];
        long[] overhead = new long[requests];
        long[] compute = new long[requests];
        try (WorkerServer worker = WorkerServer.start(wc)) {
            Plan plan = new Plan(true, 2, Encoding.FP16, 2.0, 2);
            EdgeConfig ec = EdgeConfig.builder(packOptions.pack()).kMax(2).threads(packOptions.threads)
                    .workers(List.of("127.0.0.1:" + worker.port())).plan(plan).concurrency(1).shutdownGraceMillis(1000)
                    .policy(PolicyRegistry.FIXED).build();
            try (EdgeServer edge = EdgeServer.start(ec, null, false)) {
                int warm = warmup;
                for (int i = -warm; i < requests; i++) {
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
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("requests", requests);
            out.put("e2eP50Us", Percentiles.of(e2e, 50) / 1e3);
            out.put("e2eP99Us", Percentiles.of(e2e, 99) / 1e3);
            out.put("computeP50Us", Percentiles.of(compute, 50) / 1e3);
            out.put("overheadP50Us", Percentiles.of(overhead, 50) / 1e3);
            out.put("overheadP99Us", Percentiles.of(overhead, 99) / 1e3);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
        } else {
            System.out.printf("per-request framework overhead, pack %s, %d sequential split requests (block 2, fp16), loopback%n",
                    pack.id(), requests);
            System.out.printf("%-26s %9s %9s%n", "", "p50 us", "p99 us");
            System.out.printf("%-26s %9.0f %9.0f%n", "end to end", Percentiles.of(e2e, 50) / 1e3, Percentiles.of(e2e, 99) / 1e3);
            System.out.printf("%-26s %9.0f %9.0f%n", "compute (edge + worker)", Percentiles.of(compute, 50) / 1e3, Percentiles.of(compute, 99) / 1e3);
            System.out.printf("%-26s %9.0f %9.0f%n", "framework overhead", Percentiles.of(overhead, 50) / 1e3, Percentiles.of(overhead, 99) / 1e3);
        }
        return 0;
    }
}
