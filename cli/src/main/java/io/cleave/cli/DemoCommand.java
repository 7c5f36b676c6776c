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

    @Option(names = "--json", description = "print one JSON document (per plan: the summary and the planner's last decision) instead of "
            + "the text (default: off)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Dataset ds = IdxReader.read(Paths.defaultData(), "t10k");
        int n = Math.min(images, ds.size());
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).shutdownGraceMillis(2000).build();
        java.io.PrintStream text = json ? new java.io.PrintStream(java.io.OutputStream.nullOutputStream()) : System.out;
        java.util.List<java.util.Map<String, Object>> plans = new java.util.ArrayList<>();
        try (WorkerServer worker = WorkerServer.start(wc)) {
            String target = "127.0.0.1:" + worker.port();
            text.println("worker on " + target + " serving " + packOptions.pack().getFileName());
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
                    text.printf("%n== %s: %d images, deadline %.0f ms ==%n", names[i], n, deadlineMs);
                    TestSetSummary summary = TestSetRunner.run(edge.agent(), ds, n, deadlineMs, concurrency);
                    summary.print(text);
                    java.util.Map<String, Object> plan = new java.util.LinkedHashMap<>();
                    plan.put("plan", names[i]);
                    plan.put("policy", policy);
                    plan.putAll(summary.toMap());
                    if (edge.planner() != null && edge.planner().last() != null) {
                        text.println("last decision: " + edge.planner().last());
                        text.println("planned on:    " + edge.planner().lastCosts());
                        plan.put("last_decision", String.valueOf(edge.planner().last()));
                        plan.put("planned_on", String.valueOf(edge.planner().lastCosts()));
                    }
                    plans.add(plan);
                }
            }
        }
        if (json) {
            java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("pack", packOptions.pack().getFileName().toString());
            out.put("images", n);
            out.put("deadline_ms", deadlineMs);
            out.put("concurrency", concurrency);
            out.put("plans", plans);
            System.out.println(new com.google.gson.GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(out));
        }
        return 0;
    }
}
