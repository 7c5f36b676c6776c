package io.cleave.cli;

import io.cleave.core.pack.ModelPack;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.experiment.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The soak: an edge agent in this JVM offloading over real gRPC on loopback to a real worker child
 * process, driven closed-loop at the machine's saturation rate for minutes, with every split in turn,
 * client cancellations and a worker killed and restarted halfway. Every request must end, answered or
 * refused with a precise status, cancelled, or it is lost; memory is sampled throughout.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Soak: an edge agent in this JVM offloads over gRPC on loopback to a real `cleave worker` child process (G1, nice 10), "
                + "closed-loop at the concurrency where a short ramp finds on-time throughput stops growing (or --concurrency), for "
                + "--minutes. Plans rotate over every offload split (0: the raw input, then fp16 tokens after each block the edge holds) "
                + "and local only; a share of requests is cancelled by the client shortly after sending; halfway the worker is killed "
                + "(SIGKILL) and a new one started on the same port. Each request ends answered by its deadline (5 ms slack) or late, "
                + "refused (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED), failed, cancelled, or is LOST (no end 5 s past its deadline): exit 1 "
                + "if any is lost or failed. Memory every 10 s (24 samples in shorter runs): worker RSS, edge RSS and PSS, edge heap after "
                + "GC and committed, at the end of warm-up (the first minute, or quarter in shorter runs) and at the end, with their slope.")
final class SoakBench implements Callable<Integer> {
    /** Concurrencies the ramp tries, in order, until on-time throughput stops growing. */
    static final int[] RAMP_LEVELS = {1, 2, 4, 8, 16, 32, 64};
    /** Growth below this factor from one ramp level to the next counts as no growth. */
    static final double RAMP_GROWTH = 1.05;
    /** Memory samples per timeline line. */
    static final int SAMPLES_PER_LINE = 6;

    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--minutes", defaultValue = "${env:CLEAVE_BENCH_SOAK_MINUTES:-10}",
            description = "soak duration after the ramp, fractions allowed (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_SOAK_MINUTES)")
    double minutes;

    @Option(names = "--seconds", defaultValue = "${env:CLEAVE_BENCH_SOAK_SECONDS}",
            description = "soak duration in seconds instead of --minutes "
            + "(default: none, --minutes; env CLEAVE_BENCH_SOAK_SECONDS)")
    Double seconds;

    @Option(names = "--deadline-ms", defaultValue = "${env:CLEAVE_BENCH_SOAK_DEADLINE_MS:-200}",
            description = "deadline per request (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_SOAK_DEADLINE_MS)")
    long deadlineMs;

    @Option(names = "--concurrency", defaultValue = "${env:CLEAVE_BENCH_SOAK_CONCURRENCY}", description = "closed-loop clients "
            + "(default: none, a ramp finds the saturation point; env CLEAVE_BENCH_SOAK_CONCURRENCY)")
    Integer concurrency;

    @Option(names = "--ramp-s", defaultValue = "${env:CLEAVE_BENCH_SOAK_RAMP_S:-20}",
            description = "length of the ramp over concurrencies " + "1, 2, 4 ... 64 "
            + "(default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_SOAK_RAMP_S)")
    double rampSeconds;

    @Option(names = "--cancel-share", defaultValue = "${env:CLEAVE_BENCH_SOAK_CANCEL_SHARE:-0.05}",
            description = "share of requests the client cancels, each within a quarter "
            + "of the deadline after sending (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_SOAK_CANCEL_SHARE)")
    double cancelShare;

    @Option(names = "--warm-up-ms", defaultValue = "${env:CLEAVE_BENCH_SOAK_WARM_UP_MS:-" + EdgeConfig.DEFAULT_WARM_UP_MILLIS + "}",
            description = "the edge's warm-up before the "
            + "ramp, as `cleave edge --warm-up-ms` (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_SOAK_WARM_UP_MS)")
    long warmUpMs;

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    /** The worker process now and which it is (1: the first, 2: the one after the kill); process null while none runs. */
    private record Worker(CleaveChild process, int number) {
        long pid() {
            return process == null ? -1 : process.pid();
        }
    }

    private volatile Worker worker;

    @Override
    public Integer call() throws Exception {
        validate();
        double duration = seconds != null ? seconds : minutes * 60;
        ModelPack pack = ModelPack.load(packOptions.pack());
        int kMax = Math.min(EdgeConfig.DEFAULT_K_MAX, pack.blockCount());
        RotatingPlanner planner = RotatingPlanner.everySplit(kMax, pack.blockCount());
        long deadline = TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        double samplePeriod = Math.max(1, Math.min(10, duration / 24));
        SoakReport report = new SoakReport(json, pack, kMax, planner, deadlineMs, duration, Math.min(60, duration / 4),
                samplePeriod * SAMPLES_PER_LINE, cancelShare);
        worker = new Worker(startWorker(0), 1);
        int port = worker.process().port();
        EdgeConfig ec = EdgeConfig.builder(packOptions.pack()).kMax(kMax).threads(packOptions.threads).workers(List.of("127.0.0.1:" + port))
                .plan(planner.plans().get(0)).shutdownGraceMillis(1000).warmUpMillis(warmUpMs).build();
        try (EdgeServer edge = EdgeServer.start(ec, planner, (io.grpc.ServerBuilder<?>) null);
                SoakLoad load = new SoakLoad(edge.agent(), planner, BenchInputs.images(pack, 1000), deadline, cancelShare, deadline / 4,
                        new SoakTally(deadline, planner.labels()))) {
            report.start(port);
            int clients = concurrency != null ? concurrency : ramp(load, deadline, planner, report);
            load.clients(clients);
            SoakTally tally = new SoakTally(deadline, planner.labels());
            load.countIn(tally);
            report.soaking(clients);
            long t0 = System.nanoTime();
            long end = t0 + (long) (duration * 1e9);
            SoakMemory memory = new SoakMemory();
            ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "soak-sampler");
                t.setDaemon(true);
                return t;
            });
            int[] ticks = {0};
            ticker.scheduleAtFixedRate(() -> {
                Worker w = worker;
                SoakMemory.Sample s = memory.sample((System.nanoTime() - t0) / 1e9, w.number(), w.pid());
                // the last interval's line comes once every request has ended
                if (++ticks[0] % SAMPLES_PER_LINE == 1 && ticks[0] > 1 && s.seconds() < duration - samplePeriod / 2) {
                    report.line(s, tally.snapshot());
                }
            }, 0, (long) (samplePeriod * 1e9), TimeUnit.NANOSECONDS);
            SoakReport.Restart restart;
            try (Progress bar = Progress.bar("soak, s", (long) duration)) {
                sleepUntil(t0 + (end - t0) / 2, bar, t0);
                restart = restart(port, tally, t0, end);
                sleepUntil(end, bar, t0);
            }
            load.stop();
            ticker.shutdown();
            ticker.awaitTermination(10, TimeUnit.SECONDS);
            Worker w = worker;
            report.line(memory.sample((System.nanoTime() - t0) / 1e9, w.number(), w.pid()), tally.snapshot());
            return report.summary(tally, (System.nanoTime() - t0) / 1e9, restart, memory.trends(report.warmUpSeconds(),
                    restart.listeningAtSeconds()), memory.samples());
        } finally {
            Worker w = worker;
            if (w != null && w.process() != null) {
                w.process().close();
            }
        }
    }

    private void validate() {
        if (seconds != null ? !(seconds >= 5) : !(minutes * 60 >= 5)) {
            throw new IllegalArgumentException((seconds != null ? "--seconds must be at least 5, got " + seconds
                    : "--minutes must be at least 5 s (0.0834), got " + minutes) + ": the worker restart halfway needs time on either side");
        }
        if (deadlineMs < 1) {
            throw new IllegalArgumentException("--deadline-ms must be at least 1, got " + deadlineMs);
        }
        if (concurrency != null && (concurrency < 1 || concurrency > 1024)) {
            throw new IllegalArgumentException("--concurrency must be 1 to 1024, got " + concurrency);
        }
        if (concurrency == null && !(rampSeconds >= RAMP_LEVELS.length * 0.5)) {
            throw new IllegalArgumentException("--ramp-s must be at least " + RAMP_LEVELS.length * 0.5 + " (half a second per level), got "
                    + rampSeconds);
        }
        if (!(cancelShare >= 0 && cancelShare < 1)) {
            throw new IllegalArgumentException("--cancel-share must be at least 0 and below 1, got " + cancelShare);
        }
        if (warmUpMs < 0) {
            throw new IllegalArgumentException("--warm-up-ms must be >= 0, got " + warmUpMs);
        }
        if (packOptions.threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + packOptions.threads);
        }
    }

    /**
     * Raises the clients level by level until on-time answers per second grow less than {@link #RAMP_GROWTH}; returns the level
     * with the most. Each level runs a share of {@code --ramp-s}, measured over its last two thirds.
     */
    private int ramp(SoakLoad load, long deadline, RotatingPlanner planner, SoakReport report) throws InterruptedException {
        double step = rampSeconds / RAMP_LEVELS.length;
        double best = -1;
        int chosen = RAMP_LEVELS[0];
        List<double[]> steps = new ArrayList<>();
        try (Progress bar = Progress.bar("ramp, levels", RAMP_LEVELS.length)) {
            for (int level : RAMP_LEVELS) {
                SoakTally t = new SoakTally(deadline, planner.labels());
                load.clients(level);
                load.countIn(t);
                Thread.sleep((long) (step * 1000 / 3));
                SoakTally.Snapshot a = t.snapshot();
                long from = System.nanoTime();
                Thread.sleep((long) (step * 1000 * 2 / 3));
                SoakTally.Snapshot d = t.snapshot().minus(a);
                double onTimePerSecond = d.get(SoakTally.Result.ON_TIME) / ((System.nanoTime() - from) / 1e9);
                steps.add(new double[] {level, onTimePerSecond, d.ended() == 0 ? 0 : 100.0 * d.refused() / d.ended()});
                if (onTimePerSecond < best * RAMP_GROWTH) {
                    break;
                }
                best = onTimePerSecond;
                chosen = level;
                bar.step();
            }
        }
        report.ramp(steps, chosen);
        return chosen;
    }

    /** Kills the worker (SIGKILL) and starts another on its port; waits for the edge's first cloud answer again, or {@code end}. */
    private SoakReport.Restart restart(int port, SoakTally tally, long t0, long end) throws Exception {
        SoakTally.Snapshot before = tally.snapshot();
        long killed = System.nanoTime();
        tally.watchCloudReturn(killed);
        CleaveChild old = worker.process();
        worker = new Worker(null, 2);
        old.kill9();
        CleaveChild fresh = startWorker(port);
        worker = new Worker(fresh, 2);
        while (tally.cloudBackAt() == 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        long back = tally.cloudBackAt();
        SoakTally.Snapshot meanwhile = tally.snapshot().minus(before);
        return new SoakReport.Restart((killed - t0) / 1e9, (fresh.listeningNanos() - t0) / 1e9, (fresh.listeningNanos() - killed) / 1e9,
                back == 0 ? Double.NaN : (back - killed) / 1e9, port, meanwhile);
    }

    /**
     * A worker child process as the launcher starts one (G1 unless CLEAVE_JAVA_OPTS names a collector), at a lower CPU priority:
     * in production it runs on other hardware; here it shares the cores with the edge under test. On port 0 it picks one;
     * on a given port (the restart) a bind that fails while the killed process's port is released is retried for 60 s.
     */
    private CleaveChild startWorker(int port) throws Exception {
        String opts = System.getenv().getOrDefault("CLEAVE_JAVA_OPTS", "").strip();
        List<String> jvm = new ArrayList<>(List.of("-XX:ThreadPriorityPolicy=1"));
        if (!opts.matches("(.*\\s)?-XX:\\+Use\\S*GC(\\s.*)?")) {
            jvm.add("-XX:+UseG1GC");
        }
        if (!opts.isEmpty()) {
            jvm.addAll(Arrays.asList(opts.split("\\s+")));
        }
        List<String> args = List.of("--plaintext", "--host", "127.0.0.1", "--port", String.valueOf(port), "--metrics-port", "-1",
                "--pack", packOptions.pack().toAbsolutePath().toString(), "--threads", String.valueOf(packOptions.threads));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return CleaveChild.start(List.of("nice", "-n", "10"), jvm, "worker", args, TimeUnit.MINUTES.toMillis(2));
            } catch (IllegalStateException e) {
                if (port == 0 || System.nanoTime() > until) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
    }

    /** Sleeps until {@code nanoTime}, the bar at the seconds since {@code t0}. */
    private static void sleepUntil(long nanoTime, Progress bar, long t0) throws InterruptedException {
        for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.SECONDS.toNanos(1)));
            bar.stepTo(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        }
    }
}
