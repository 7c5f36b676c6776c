package io.cleave.cli;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The main job: a worker and an edge agent on loopback, the committed pack and test images. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a cloud worker and an edge agent on loopback (real gRPC) with the committed pack, stream test "
                + "images through them with a deadline, and show which exit answered each request and how well.")
final class DemoCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions;

    @Option(names = "--images", defaultValue = "${env:CLEAVE_DEMO_IMAGES:-2000}",
            description = "test images to stream (default: ${DEFAULT-VALUE}; env CLEAVE_DEMO_IMAGES)")
    int images;

    @Option(names = "--deadline-ms", defaultValue = "${env:CLEAVE_DEMO_DEADLINE_MS:-30}",
            description = "deadline per request (default: ${DEFAULT-VALUE}; env CLEAVE_DEMO_DEADLINE_MS)")
    double deadlineMs;

    @Option(names = "--concurrency", defaultValue = "${env:CLEAVE_DEMO_CONCURRENCY:-4}",
            description = "requests in flight (default: ${DEFAULT-VALUE}; env CLEAVE_DEMO_CONCURRENCY)")
    int concurrency;

    @Override
    public Integer call() throws Exception {
        Dataset ds = IdxReader.read(Paths.defaultData(), "t10k");
        int n = Math.min(images, ds.size());
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).shutdownGraceMillis(2000).build();
        try (WorkerServer worker = WorkerServer.start(wc)) {
            String target = "127.0.0.1:" + worker.port();
            System.out.println("worker on " + target + " serving " + packOptions.pack().getFileName());
            String[] names = {"edge-only (k_max 4: local exits after blocks 1, 2, 3 and 4)",
                    "fixed race: tokens after block 2 (fp16), local early exit at confidence 0.9",
                    "fixed race: tokens after block 2 (fp16), no early exit",
                    "Cleave's planner, embedded, on live measurements (it chooses split, encoding and threshold)"};
            for (int i = 0; i < names.length; i++) {
                PlanOptions po = new PlanOptions();
                po.kMax = 4;
                po.workers = i == 0 ? List.of() : List.of(target);
                po.split = 2;
                po.encoding = io.cleave.proto.v1.Encoding.FP16;
                po.threshold = i == 1 ? 0.9 : 2.0;
                String policy = i == 3 ? PolicyRegistry.CLEAVE : PolicyRegistry.FIXED;
                EdgeConfig ec = EdgeConfig.builder(packOptions.pack()).kMax(po.kMax).threads(packOptions.threads).workers(po.workers())
                        .plan(po.plan()).concurrency(concurrency).shutdownGraceMillis(1000).policy(policy).build();
                try (EdgeServer edge = EdgeServer.start(ec, null, false)) {
                    System.out.printf("%n== %s: %d images, deadline %.0f ms ==%n", names[i], n, deadlineMs);
                    TestSetRunner.run(edge.agent(), ds, n, deadlineMs, concurrency).print(System.out);
                    if (edge.planner() != null && edge.planner().last() != null) {
                        System.out.println("last decision: " + edge.planner().last());
                        System.out.println("planned on:    " + edge.planner().lastCosts());
                    }
                }
            }
        }
        return 0;
    }
}
