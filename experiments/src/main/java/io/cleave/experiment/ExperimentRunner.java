package io.cleave.experiment;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policies;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.link.LinkProxy;
import io.cleave.link.Shaper;
import io.cleave.link.Trace;
import io.cleave.proto.v1.Encoding;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs an experiment: one real worker on loopback; per run, a fresh link proxy replaying the
 * trace from its start (so every policy sees the same network) and a fresh edge agent with the
 * device class and policy, streaming test images open-loop at a fixed rate (request i sends test
 * image i in every run, so policies pair by image). Writes requests.csv, summary.json and
 * summary.md to the output folder; an untrained pack is scored by exit depth instead of accuracy.
 */
public final class ExperimentRunner {
    /** Policies a run can use: the edge's planner policies, a fixed split, and the oracle. */
    public static final List<String> POLICIES = PolicyRegistry.experimentDefaults();

    private final ExperimentConfig cfg;
    private final PrintStream progress;

    public ExperimentRunner(ExperimentConfig cfg, PrintStream progress) {
        this.cfg = cfg;
        this.progress = progress;
    }

    public List<RunSummary> run() throws Exception {
        Files.createDirectories(cfg.out());
        ModelPack pack = ModelPack.load(cfg.pack());
        Dataset ds = IdxReader.read(cfg.data(), "t10k");
        List<RequestRecord> all = Collections.synchronizedList(new ArrayList<>());
        List<RunSummary> summaries = new ArrayList<>();
        List<Run> recorded = new ArrayList<>();
        Map<String, Replay.Link> links = new LinkedHashMap<>();
        int runs = cfg.runs();
        int done = 0;
        WorkerConfig wc = WorkerConfig.builder(cfg.pack()).threads(cfg.threads()).shutdownGraceMillis(1000).build();
        try (WorkerServer worker = WorkerServer.start(wc); Progress bar = Progress.logged("experiment", (runs + 1L) * cfg.images(), progress)) {
            // one unrecorded run first, offloading at every split the planner likes: the JIT compiles the edge, worker and
            // link paths here, so the first recorded run is not the coldest (it was: cleave, first in the grid, lost 4 pp
            // at 20 ms to a cold JVM in a run of 2026-11-28)
            Path first = cfg.traces().get(0);
            runOne(pack, ds, worker.port(), Trace.load(first), downlinkOf(first), cfg.devices().get(0), PolicyRegistry.planned().get(0),
                    cfg.deadlinesMs().stream().mapToDouble(Double::doubleValue).max().orElse(100), -1, runs, bar);
            for (var tracePath : cfg.traces()) {
                Trace trace = Trace.load(tracePath);
                Trace down = downlinkOf(tracePath);
                links.put(trace.name(), new Replay.Link(trace, down, cfg.conditions()));
                for (Device device : cfg.devices()) {
                    for (String policy : cfg.policies()) {
                        for (double deadline : cfg.deadlinesMs()) {
                            Run run = runOne(pack, ds, worker.port(), trace, down, device, policy, deadline, done, runs, bar);
                            List<RequestRecord> rows = new ArrayList<>(run.rows());
                            rows.sort(java.util.Comparator.comparingInt(RequestRecord::request));
                            recorded.add(new Run(rows, run.times()));
                            all.addAll(rows);
                            summaries.add(RunSummary.of(trace.name(), device.label(), policy, deadline, rows));
                            done++;
                        }
                    }
                }
            }
        }
        var meta = new java.util.LinkedHashMap<String, Object>();
        meta.put("pack", cfg.pack().getFileName().toString());
        meta.put("devices", cfg.devices().stream().map(d -> d.describe(cfg.threads())).toList());
        meta.put("trainedPack", pack.trained());
        meta.put("link", "uplink replays each trace from its start through a TCP proxy on loopback; downlink replays the matching "
                + "Mahimahi .down trace where there is one, else results return unshaped; " + cfg.conditions().describe());
        meta.put("images", cfg.images());
        meta.put("ratePerSecond", cfg.ratePerSecond());
        List<String> notReplayed = new ArrayList<>();
        List<ReplayBound.Run> replayed = replay(pack, ds, recorded, links, notReplayed);
        if (!notReplayed.isEmpty()) {
            meta.put("notReplayed", notReplayed);
        }
        Report.write(cfg.out(), all, summaries, meta, Metric.forPack(pack.trained()), replayed);
        return summaries;
    }

    /** The downlink partner of a Mahimahi uplink trace ({@code X.up} -> {@code X.down}), or null. */
    static Trace downlinkOf(java.nio.file.Path uplink) throws IOException {
        String name = uplink.getFileName().toString();
        if (!name.endsWith(".up")) {
            return null;
        }
        java.nio.file.Path down = uplink.resolveSibling(name.substring(0, name.length() - 3) + ".down");
        return Files.isRegularFile(down) ? Trace.load(down) : null;
    }

    /** A run's requests, and the segment times its edge measured. */
    private record Run(List<RequestRecord> rows, SegmentTimes times) {}

    /**
     * The hindsight bound by replay, per run: the model's answers for every image sent, computed
     * once here (after the runs, so that it takes no CPU from them), then each request replayed at
     * its own send offset under every candidate plan, with the segment times its run's edge
     * measured (the medians over the cell's runs where it never measured one the replay needs). A
     * run whose cell never measured such a segment is left out, with the reason in {@code skipped}.
     */
    private List<ReplayBound.Run> replay(ModelPack pack, Dataset ds, List<Run> runs, Map<String, Replay.Link> links, List<String> skipped) {
        int n = Math.min(cfg.images(), ds.size());
        int maxSplit = cfg.devices().stream().mapToInt(Device::kMax).max().orElse(0);
        long t0 = System.nanoTime();
        ExitTable table = ExitTable.compute(pack, ds, n, maxSplit, cfg.threads());
        progress.printf("replay: every exit's answer for %d images in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
        PackStats stats = PackStats.of(pack);
        Map<RequestRecord.Cell, List<SegmentTimes>> byCell = new LinkedHashMap<>();
        runs.stream().filter(r -> !r.rows().isEmpty()).forEach(r -> byCell.computeIfAbsent(r.rows().get(0).cell(), c -> new ArrayList<>())
                .add(r.times()));
        List<ReplayBound.Run> out = new ArrayList<>();
        t0 = System.nanoTime();
        for (Run run : runs) {
            if (run.rows().isEmpty()) {
                continue;
            }
            RequestRecord first = run.rows().get(0);
            RequestRecord.Cell cell = first.cell();
            Device device = cfg.devices().stream().filter(d -> d.label().equals(cell.device())).findFirst().orElseThrow();
            Costs measured = SegmentTimes.pooled(List.of(run.times()), stats, device.kMax());
            if (measured == null) {
                measured = SegmentTimes.pooled(byCell.get(cell), stats, device.kMax());
            }
            if (measured == null) {
                skipped.add(first.policy() + " on " + cell.trace() + ", " + cell.device() + ", " + cell.deadlineMs()
                        + " ms: a segment time or the worker's profile was never measured");
                continue;
            }
            List<Plan> plans = Replay.candidates(stats, device.kMax());
            Replay replay = new Replay(stats, table, measured, links.get(cell.trace()), pack.classes());
            long deadline = (long) (cell.deadlineMs() * 1e6);
            TreeMap<Integer, Replay.Best> best = new TreeMap<>();
            for (RequestRecord r : run.rows()) {
                best.put(r.request(), replay.best(plans, r.request() % n, (long) (r.startS() * 1e9), deadline));
            }
            Map<String, Object> inputs = new LinkedHashMap<>(SegmentTimes.describe(measured));
            out.add(ReplayBound.of(cell, first.policy(), plans.size(), best, inputs));
        }
        progress.printf("replay: %d runs in %.1f s%n", out.size(), (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /**
     * Offset into the trace of every run's first request: covers the edge's start-up (0.35-1.93 s measured here), after
     * which its link prober (every 250 ms) measures the link before any request is planned.
     */
    static final long FIRST_REQUEST_NANOS = 3_000_000_000L;
    /** The least probing time an edge gets before its first request, should its start-up run past the planned offset. */
    static final long MIN_LEAD_NANOS = 500_000_000L;

    private Run runOne(ModelPack pack, Dataset ds, int workerPort, Trace trace, Trace down, Device device, String policy,
            double deadlineMs, int index, int runs, Progress bar) throws Exception {
        List<RequestRecord> rows = Collections.synchronizedList(new ArrayList<>());
        try (LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", workerPort), index + 1)) {
            Plan fallback = new Plan(true, 0, Encoding.U8_IMAGE, 2.0, device.kMax());
            boolean fixed = PolicyRegistry.fixedSplit(policy) >= 0;
            Plan plan = fixed ? new Plan(true, PolicyRegistry.fixedSplit(policy), Encoding.FP16, 2.0, device.kMax()) : fallback;
            AtomicReference<EdgeServer> self = new AtomicReference<>();
            long start = System.nanoTime();
            cfg.conditions().apply(link, Shaper.trace(trace, start), down == null ? null : Shaper.trace(down, start), start);
            OraclePlanner oracle = policy.equals(PolicyRegistry.ORACLE)
                    ? new OraclePlanner(Policies.oracle(PackStats.of(pack), 2.0), () -> self.get() == null ? null : self.get().measurements(),
                            trace, start, fallback)
                    : null;
            EdgeConfig ec = EdgeConfig.builder(cfg.pack()).kMax(device.kMax()).threads(cfg.threads()).workers(List.of("127.0.0.1:" + link.port()))
                    .plan(plan).concurrency(4).shutdownGraceMillis(1000).policy(fixed || oracle != null ? PolicyRegistry.FIXED : policy)
                    .slowdown(device.slowdown())
                    .warmUpMillis(0).build(); // warm-up offloads would consume the trace the link replays
            try (EdgeServer edge = EdgeServer.start(ec, oracle, false)) {
                self.set(edge);
                String label = index < 0 ? "warm-up run, not recorded"
                        : String.format(Locale.ROOT, "run %d/%d: %s %s %s %.0f ms", index + 1, runs, trace.name(), device.label(), policy, deadlineMs);
                bar.message(label);
                // request i meets the link at the same point of the trace in every run: FIRST_REQUEST_NANOS + i periods from the
                // trace's start, which was before the edge's (the trace is never restarted under a live edge: a probe in flight
                // across a restart read the 3G uplink as 0.048 Mbps and the estimate stayed low for the whole run)
                long ready = System.nanoTime();
                long t0 = start + FIRST_REQUEST_NANOS;
                if (ready + MIN_LEAD_NANOS > t0) {
                    Progress.print(progress, String.format("%s: the edge took %.1f s to start: this run's requests go %.1f s later into the "
                            + "trace than planned%n", label, (ready - start) / 1e9, (ready + MIN_LEAD_NANOS - t0) / 1e9));
                    t0 = ready + MIN_LEAD_NANOS;
                }
                long period = (long) (1e9 / cfg.ratePerSecond());
                AtomicReference<String> firstRefusal = new AtomicReference<>();
                List<CompletableFuture<?>> pending = new ArrayList<>();
                for (int i = 0; i < cfg.images(); i++) {
                    long wait = t0 + i * period - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    int img = i % ds.size();
                    int req = i;
                    double at = (System.nanoTime() - start) / 1e9;
                    long budget = (long) (deadlineMs * 1e6);
                    long sentAt = System.nanoTime();
                    pending.add(edge.agent().classify(trace.name() + "-" + device.label() + "-" + policy + "-" + i, ds.image(img), budget)
                            .handle((o, err) -> {
                                if (err == null) {
                                    return rows.add(record(trace, device, policy, deadlineMs, req, at, o, ds.labels()[img], edge));
                                }
                                if (!refusal(err)) {
                                    throw new java.util.concurrent.CompletionException(err);
                                }
                                if (firstRefusal.compareAndSet(null, String.valueOf(err.getMessage()))) {
                                    Progress.print(progress, String.format("%s: first refusal (request %d): %s%n", label, req, err.getMessage()));
                                }
                                return rows.add(refused(trace, device, policy, deadlineMs, req, at, (System.nanoTime() - sentAt) / 1e6));
                            }));
                    bar.step();
                }
                CompletableFuture.allOf(pending.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
                return new Run(List.copyOf(rows), SegmentTimes.of(edge.measurements(), Segments.of(pack)));
            }
        }
    }

    /**
     * Whether a request ended without an answer because the edge could not make its deadline: refused at admission
     * (RESOURCE_EXHAUSTED) or overloaded past it with no exit computed (DEADLINE_EXCEEDED, "edge overloaded: no exit by
     * the deadline"). Both are recorded as an unanswered miss; any other failure ends the experiment.
     */
    static boolean refusal(Throwable err) {
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
        return cause instanceof CleaveException ce && (ce.code() == ErrorCode.RESOURCE_EXHAUSTED || ce.code() == ErrorCode.DEADLINE_EXCEEDED);
    }

    private static RequestRecord refused(Trace trace, Device device, String policy, double deadlineMs, int req, double at, double waitedMs) {
        long atMs = (long) (at * 1000);
        return new RequestRecord(trace.name(), device.label(), policy, deadlineMs, req, at, false, -1, "", -1, -1, false, false, waitedMs, 0,
                false, Double.NaN, trace.mbpsBetween(atMs, atMs + Math.max(1, (long) deadlineMs)));
    }

    private static RequestRecord record(Trace trace, Device device, String policy, double deadlineMs, int req, double at, Outcome o, int label,
            EdgeServer edge) {
        var c = o.answer().candidate();
        double est = edge.uplinkMbps();
        long atMs = (long) (at * 1000);
        return new RequestRecord(trace.name(), device.label(), policy, deadlineMs, req, at, o.plan().offload(),
                o.plan().offload() ? o.plan().split() : -1, o.plan().offload() ? o.plan().encoding().name() : "", c.exit(), c.block(), c.cloud(), c.predictedClass() == label,
                o.answer().latencyNanos() / 1e6, o.bytesSent(), o.answer().deadlineMet(), est,
                trace.mbpsBetween(atMs, atMs + Math.max(1, (long) deadlineMs)), RequestRecord.dynamic(o.plan()));
    }
}
