package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.coordinator.CoordinatorConfig;
import io.cleave.edge.cloud.AssignmentFollower;
import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.HeartbeatReply;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One real {@code cleave coordinator} child process against simulated workers and edges on loopback, at the rates the
 * real ones use: every worker heartbeats each {@code --heartbeat-ms}, every edge asks for its assignment each
 * {@link AssignmentFollower#PERIOD_MILLIS}. For each edge count: assignment latency (client side, send to answer),
 * assignments and heartbeats answered per second, the coordinator's CPU and RSS, and how evenly edges spread over the
 * workers; then one worker stops heartbeating and the bench times how long until none of its edges is sent to it, and
 * another crashes: its edges ask at once naming it (as a real edge does when its connection fails) and the bench times
 * how long until all of them are elsewhere.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = "The coordinator at scale: simulated edges (each asking every " + AssignmentFollower.PERIOD_MILLIS + " ms) and "
                + "workers (each heartbeating every --heartbeat-ms) against one real coordinator process on loopback; assignment "
                + "latency p50/p99, rates, coordinator CPU and RSS per edge count, the smallest beside the largest, and how long a "
                + "silent worker keeps getting edges, and how soon a crashed worker's edges (reporting it) are elsewhere.")
final class CoordinatorBench implements Callable<Integer> {
    @Option(names = "--edges", split = ",", defaultValue = "${env:CLEAVE_BENCH_COORDINATOR_EDGES:-1000,2500,5000,10000}",
            description = "simulated edge counts, one phase each (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_COORDINATOR_EDGES)")
    List<Integer> edgeCounts;

    @Option(names = "--workers", defaultValue = "${env:CLEAVE_BENCH_COORDINATOR_WORKERS:-100}",
            description = "simulated workers (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_COORDINATOR_WORKERS)")
    int workers;

    @Option(names = "--seconds", defaultValue = "${env:CLEAVE_BENCH_COORDINATOR_SECONDS:-10}",
            description = "measured seconds per phase, each after 3 s at its edge count (and 20 s before the first) (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_COORDINATOR_SECONDS)")
    int seconds;

    @Option(names = "--heartbeat-ms", defaultValue = "${env:CLEAVE_BENCH_COORDINATOR_HEARTBEAT_MS:-" + CoordinatorConfig.DEFAULT_HEARTBEAT_PERIOD_MILLIS + "}",
            description = "the workers' heartbeat period, and the coordinator's (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_COORDINATOR_HEARTBEAT_MS)")
    long heartbeatMillis;

    @Option(names = "--channels", defaultValue = "${env:CLEAVE_BENCH_COORDINATOR_CHANNELS:-32}",
            description = "connections the simulated edges share (real edges hold one each; one load generator cannot hold "
                    + "10,000 on this machine) (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_COORDINATOR_CHANNELS)")
    int channelCount;

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    private static final String MODEL = "bench-model";
    /** Load at the first edge count before the first measurement: the first 3 s of a fresh coordinator ran at 2.7 s p99. */
    private static final long WARM_UP_MILLIS = 20_000;
    /** Each assigned edge adds this many requests to its worker's queue: load-aware assignment has something to see. */
    private static final double QUEUED_PER_EDGE = 0.1;

    @Override
    public Integer call() throws Exception {
        if (workers > 40_000) {
            throw new IllegalArgumentException("--workers must be at most 40000 (one loopback port each), got " + workers);
        }
        if (workers < 1 || seconds < 1 || heartbeatMillis < 1 || channelCount < 1 || edgeCounts.stream().anyMatch(n -> n < 1)) {
            throw new IllegalArgumentException("--edges, --workers, --seconds, --heartbeat-ms and --channels must be at least 1");
        }
        List<Map<String, Object>> phases = new ArrayList<>();
        Map<String, Object> drain;
        Map<String, Object> crash;
        try (CleaveChild coordinator = CleaveChild.start(List.of(), List.of("-XX:+UseG1GC"), "coordinator",
                List.of("--plaintext", "--port", "0", "--metrics-port", "0", "--heartbeat-ms", String.valueOf(heartbeatMillis)), 60_000);
                Load load = new Load("127.0.0.1:" + coordinator.port(), channelCount, workers, heartbeatMillis)) {
            java.util.regex.Matcher at = java.util.regex.Pattern.compile("metrics on (http://\\S+/metrics)").matcher(coordinator.log());
            java.net.URI metrics = at.find() ? java.net.URI.create(at.group(1)) : null;
            load.edges(edgeCounts.get(0));
            Thread.sleep(WARM_UP_MILLIS); // a fresh coordinator JVM: its JIT, before anything is measured
            for (int n : edgeCounts) {
                load.edges(n);
                Thread.sleep(3_000); // every edge placed once at the new count
                double[] before = serverSide(metrics);
                Map<String, Object> phase = load.measure(seconds, coordinator.pid());
                double[] after = serverSide(metrics);
                double calls = after[0] - before[0];
                phase.put("server_assign_calls", calls);
                phase.put("server_assign_within_1ms", calls <= 0 ? Double.NaN : (after[1] - before[1]) / calls);
                phase.put("server_assign_within_5ms", calls <= 0 ? Double.NaN : (after[2] - before[2]) / calls);
                phases.add(phase);
                if (!json) {
                    System.err.printf(Locale.ROOT, "%,d edges: measured%n", n);
                }
            }
            load.edges(edgeCounts.get(0)); // the silent worker at the smallest load: its edges' asks answered promptly
            Thread.sleep(3_000);
            drain = load.remove(false);
            Thread.sleep(1_000);
            crash = load.remove(true);
        }
        print(phases, drain, crash);
        return 0;
    }

    private void print(List<Map<String, Object>> phases, Map<String, Object> drain, Map<String, Object> crash) {
        Map<String, Object> first = phases.get(0);
        Map<String, Object> last = phases.get(phases.size() - 1);
        Map<String, Object> growth = new LinkedHashMap<>();
        for (String k : List.of("assign_p50_us", "assign_p99_us", "coordinator_cpu_percent", "coordinator_rss_mib")) {
            growth.put(k, (double) last.get(k) / Math.max(1e-9, (double) first.get(k)));
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("workers", workers);
            out.put("heartbeat_ms", heartbeatMillis);
            out.put("ask_period_ms", AssignmentFollower.PERIOD_MILLIS);
            out.put("channels", channelCount);
            out.put("phases", phases);
            out.put("largest_over_smallest", growth);
            out.put("silent_worker", drain);
            out.put("crashed_worker", crash);
            System.out.println(new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(out));
            return;
        }
        System.out.printf(Locale.ROOT, "coordinator at scale: %d simulated workers heartbeating every %d ms, edges asking every %d ms over %d "
                + "connections, one coordinator process on loopback (plaintext)%n", workers, heartbeatMillis, AssignmentFollower.PERIOD_MILLIS,
                channelCount);
        System.out.println("client side: send to answer, in the load generator's JVM (on the same cores); server side: the coordinator's "
                + "own call start to close");
        System.out.printf(Locale.ROOT, "%8s %12s %12s %12s %18s %14s %16s %8s %9s %14s%n", "edges", "client p50", "client p99", "client max",
                "assigns/s", "heartbeats/s", "server <=1/5 ms", "CPU", "RSS", "edges/worker");
        for (Map<String, Object> p : phases) {
            System.out.printf(Locale.ROOT, "%,8d %9.0f us %9.0f us %9.0f us %7.0f (of %,6.0f) %14.0f %7.2f%%/%6.2f%% %7.0f%% %5.0f MiB %5.1f max/mean%n",
                    p.get("edges"), p.get("assign_p50_us"), p.get("assign_p99_us"), p.get("assign_max_us"), p.get("assigns_per_second"),
                    p.get("asks_per_second_planned"), p.get("heartbeats_per_second"), 100 * (double) p.get("server_assign_within_1ms"),
                    100 * (double) p.get("server_assign_within_5ms"), p.get("coordinator_cpu_percent"), p.get("coordinator_rss_mib"),
                    p.get("edges_per_worker_max_over_mean"));
        }
        System.out.printf(Locale.ROOT, "largest / smallest: client p50 %.2fx, client p99 %.2fx, CPU %.2fx, RSS %.2fx (goal: p99 <= 1 ms; "
                + "CPU is of one core)%n",
                growth.get("assign_p50_us"), growth.get("assign_p99_us"), growth.get("coordinator_cpu_percent"), growth.get("coordinator_rss_mib"));
        System.out.printf(Locale.ROOT, "at %,d edges, a worker stops heartbeating (%d of its edges): the last assignment to it %.0f ms later, all its edges "
                + "elsewhere %.0f ms later (the coordinator drains after 3 missed periods, %d ms)%n", edgeCounts.get(0), drain.get("edges_on_it"),
                drain.get("last_assignment_to_it_ms"), drain.get("all_moved_ms"), 3 * heartbeatMillis);
        System.out.printf(Locale.ROOT, "then another crashes (%d of its edges ask at once naming it, as an edge does when its connection fails): "
                + "the last assignment to it %.0f ms later, all its edges elsewhere %.0f ms later%n", crash.get("edges_on_it"),
                crash.get("last_assignment_to_it_ms"), crash.get("all_moved_ms"));
    }

    /** The simulated workers and edges: async unary calls on a few shared channels, callbacks on the transport threads. */
    private static final class Load implements AutoCloseable {
        private final List<ManagedChannel> channels = new ArrayList<>();
        private final ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-coordinator-ticks");
            t.setDaemon(true);
            return t;
        });
        private final int workers;
        private final long heartbeatMillis;
        private final Map<String, Integer> onWorker = new ConcurrentHashMap<>(); // edge -> worker index it is on
        private final int[] edgesPerWorker;
        private volatile int edges;
        private volatile int silent = -1; // a worker that stopped heartbeating
        private volatile int crashed = -1; // a worker that stopped heartbeating, and whose edges' connections failed
        private volatile int watched = -1; // the one whose last assignment is timed
        private final AtomicLong heartbeatsAnswered = new AtomicLong();
        private final AtomicLong asksAnswered = new AtomicLong();
        private final AtomicLong failures = new AtomicLong();
        private volatile long[] latencies = new long[0]; // ring of assignment latencies, nanoseconds
        private final AtomicLong latencyCount = new AtomicLong();
        private volatile long lastToWatchedNanos;
        private long tick;

        Load(String target, int channelCount, int workers, long heartbeatMillis) {
            for (int i = 0; i < channelCount; i++) {
                channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().directExecutor().build());
            }
            this.workers = workers;
            this.heartbeatMillis = heartbeatMillis;
            this.edgesPerWorker = new int[workers];
            ticks.scheduleAtFixedRate(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
        }

        private static final long TICK_MILLIS = 5;

        /** Each tick sends the heartbeats and asks due in it: every worker and edge once per its period, spread evenly. */
        private void tick() {
            long t = tick++;
            long hbTicks = Math.max(1, heartbeatMillis / TICK_MILLIS);
            long askTicks = Math.max(1, AssignmentFollower.PERIOD_MILLIS / TICK_MILLIS);
            for (int w = (int) (t % hbTicks); w < workers; w += hbTicks) {
                if (w != silent && w != crashed) {
                    heartbeat(w);
                }
            }
            int n = edges;
            for (int e = (int) (t % askTicks); e < n; e += askTicks) {
                ask(e);
            }
        }

        private ManagedChannel channel(int i) {
            return channels.get(i % channels.size());
        }

        private void heartbeat(int w) {
            int queued;
            synchronized (edgesPerWorker) {
                queued = (int) Math.round(edgesPerWorker[w] * QUEUED_PER_EDGE);
            }
            WorkerHeartbeat hb = WorkerHeartbeat.newBuilder().setWorkerId("w" + w).setTarget(target(w)).setModelId(MODEL)
                    .setModelVersion("1").setQueued(queued).build();
            CoordinatorGrpc.newStub(channel(w)).withDeadlineAfter(5, TimeUnit.SECONDS).heartbeat(hb, new StreamObserver<HeartbeatReply>() {
                @Override
                public void onNext(HeartbeatReply r) {
                    heartbeatsAnswered.incrementAndGet();
                }

                @Override
                public void onError(Throwable t) {
                    failures.incrementAndGet();
                }

                @Override
                public void onCompleted() {
                }
            });
        }

        private static String target(int w) {
            return "127.0.0.1:" + (FIRST_PORT + w); // never dialled: the coordinator only hands it out
        }

        private static final int FIRST_PORT = 20_000;

        private void ask(int e) {
            String edge = "e" + e;
            Integer on = onWorker.get(edge);
            AssignRequest req = AssignRequest.newBuilder().setEdgeId(edge).setModelId(MODEL).setCurrentTarget(on == null ? "" : target(on))
                    .setLostTarget(on != null && on == crashed ? target(on) : "").build();
            long sent = System.nanoTime();
            CoordinatorGrpc.newStub(channel(e)).withDeadlineAfter(5, TimeUnit.SECONDS).assign(req, new StreamObserver<Assignment>() {
                @Override
                public void onNext(Assignment a) {
                    long now = System.nanoTime();
                    record(now - sent);
                    asksAnswered.incrementAndGet();
                    if (a.getWorkerTarget().isEmpty()) {
                        return;
                    }
                    int w = index(a.getWorkerTarget());
                    if (w == watched) {
                        lastToWatchedNanos = now;
                    }
                    synchronized (edgesPerWorker) { // answers to two asks of one edge may race: the map and the counts move together
                        if (e >= edges) {
                            return; // an answer in flight when this edge stopped asking: it is counted nowhere
                        }
                        Integer before = onWorker.put(edge, w);
                        if (before != null) {
                            edgesPerWorker[before]--;
                        }
                        edgesPerWorker[w]++;
                    }
                }

                @Override
                public void onError(Throwable t) {
                    failures.incrementAndGet();
                }

                @Override
                public void onCompleted() {
                }
            });
        }

        private static int index(String target) {
            return Integer.parseInt(target.substring(target.lastIndexOf(':') + 1)) - FIRST_PORT;
        }

        private void record(long nanos) {
            long[] ring = latencies;
            long i = latencyCount.getAndIncrement();
            if (i < ring.length) {
                ring[(int) i] = nanos;
            }
        }

        void edges(int n) {
            synchronized (edgesPerWorker) { // edges that stop asking leave the counts; answers still in flight for them are dropped
                int before = edges;
                edges = n;
                for (int e = n; e < before; e++) {
                    Integer on = onWorker.remove("e" + e);
                    if (on != null) {
                        edgesPerWorker[on]--;
                    }
                }
            }
        }

        /** One measured phase at the current edge count. */
        Map<String, Object> measure(int seconds, long pid) throws Exception {
            long planned = (long) (edges * seconds * 1000.0 / AssignmentFollower.PERIOD_MILLIS);
            latencies = new long[(int) Math.min(Integer.MAX_VALUE - 8, planned * 2)];
            latencyCount.set(0);
            long hb0 = heartbeatsAnswered.get();
            long asks0 = asksAnswered.get();
            long fail0 = failures.get();
            long cpu0 = cpuTicks(pid);
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            double wall = (System.nanoTime() - t0) / 1e9;
            long cpu1 = cpuTicks(pid);
            long count = Math.min(latencyCount.get(), latencies.length);
            long[] l = Arrays.copyOf(latencies, (int) count);
            Arrays.sort(l);
            int[] spread;
            synchronized (edgesPerWorker) {
                spread = edgesPerWorker.clone();
            }
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("edges", edges);
            p.put("assign_p50_us", quantile(l, 0.5) / 1e3);
            p.put("assign_p99_us", quantile(l, 0.99) / 1e3);
            p.put("assign_max_us", l.length == 0 ? Double.NaN : l[l.length - 1] / 1e3);
            p.put("assigns_per_second", (asksAnswered.get() - asks0) / wall);
            p.put("asks_per_second_planned", edges * 1000.0 / AssignmentFollower.PERIOD_MILLIS);
            p.put("heartbeats_per_second", (heartbeatsAnswered.get() - hb0) / wall);
            p.put("failed_calls", failures.get() - fail0);
            p.put("coordinator_cpu_percent", 100.0 * (cpu1 - cpu0) / CLOCK_TICKS / wall);
            p.put("coordinator_rss_mib", ProcMemory.of(pid).rssKiB() / 1024.0);
            double mean = Arrays.stream(spread).average().orElse(0);
            p.put("edges_per_worker_max_over_mean", mean == 0 ? Double.NaN : Arrays.stream(spread).max().orElse(0) / mean);
            p.put("edges_per_worker_min", (double) Arrays.stream(spread).min().orElse(0));
            return p;
        }

        /**
         * The most loaded worker still up stops heartbeating: how long until it gets no edge, and until all its edges are
         * elsewhere. With {@code crash}, each of its edges also asks at once naming it, as {@code AssignmentFollower} does
         * when the edge's connection to its worker fails; without, the edges learn of it at their periodic asks only.
         */
        Map<String, Object> remove(boolean crash) throws InterruptedException {
            int victim = -1;
            List<Integer> itsEdges = new ArrayList<>();
            synchronized (edgesPerWorker) {
                for (int w = 0; w < workers; w++) {
                    if (w != silent && (victim < 0 || edgesPerWorker[w] > edgesPerWorker[victim])) {
                        victim = w;
                    }
                }
                for (Map.Entry<String, Integer> on : onWorker.entrySet()) {
                    if (on.getValue() == victim) {
                        itsEdges.add(Integer.parseInt(on.getKey().substring(1)));
                    }
                }
            }
            int onIt = itsEdges.size();
            long t0 = System.nanoTime();
            lastToWatchedNanos = t0;
            watched = victim;
            if (crash) {
                crashed = victim;
                itsEdges.forEach(this::ask);
            } else {
                silent = victim;
            }
            long allMoved = -1;
            long until = t0 + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < until) {
                int left;
                synchronized (edgesPerWorker) {
                    left = edgesPerWorker[victim];
                }
                if (left == 0) {
                    allMoved = System.nanoTime();
                    break;
                }
                Thread.sleep(5);
            }
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("edges_on_it", onIt);
            d.put("last_assignment_to_it_ms", (lastToWatchedNanos - t0) / 1e6);
            d.put("all_moved_ms", allMoved < 0 ? Double.NaN : (allMoved - t0) / 1e6);
            return d;
        }

        @Override
        public void close() {
            ticks.shutdownNow();
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /**
     * The coordinator's own count of Assign calls, and of those it ended within 1 ms and 5 ms (call start to close, on
     * its side of the network: its {@code cleave_rpc_server_seconds} histogram); NaNs without an endpoint.
     */
    private static double[] serverSide(java.net.URI metrics) throws IOException, InterruptedException {
        double[] out = {Double.NaN, Double.NaN, Double.NaN};
        if (metrics == null) {
            return out;
        }
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(metrics).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("cleave_rpc_server_seconds") || !line.contains("method=\"Assign\"")) {
                continue;
            }
            double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith("cleave_rpc_server_seconds_count")) {
                out[0] = v;
            } else if (line.contains("le=\"0.001\"")) {
                out[1] = v;
            } else if (line.contains("le=\"0.005\"")) {
                out[2] = v;
            }
        }
        return out;
    }

    /** USER_HZ: the unit of /proc/PID/stat's CPU times (100 on every Linux this runs on). */
    private static final double CLOCK_TICKS = 100.0;

    /** utime + stime of {@code pid}, in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15, counted from the state (field 3)
    }

    private static double quantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }
}
