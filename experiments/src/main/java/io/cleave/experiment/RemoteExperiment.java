package io.cleave.experiment;

import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.net.HostPort;
import io.cleave.edge.DeviceClass;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Source;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An experiment against running edge agents (e.g. the docker-compose stack): each edge, behind its
 * own emulated link, is sent the test images at a fixed rate through its gRPC API, every edge at
 * once, for each deadline. The edges' own policies, links and workers are whatever they were
 * started with; the report labels each edge with the name it was given.
 */
public final class RemoteExperiment {
    /** An edge agent to drive: {@code name} labels it in the report (e.g. its network). */
    public record Edge(String name, String target) {
        /** Parses {@code name=host:port}. */
        public static Edge parse(String spec) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--edge must be name=host:port, got '" + spec + "'");
            }
            HostPort.parse(spec.substring(eq + 1), "--edge " + spec.substring(0, eq));
            return new Edge(spec.substring(0, eq), spec.substring(eq + 1));
        }
    }

    private final List<Edge> edges;
    private final Path data;
    private final List<Double> deadlinesMs;
    private final int images;
    private final double rate;
    private final Path out;
    private final PrintStream progress;
    private String apiToken;

    public RemoteExperiment(List<Edge> edges, Path data, List<Double> deadlinesMs, int images, double rate, Path out, PrintStream progress) {
        this.edges = List.copyOf(edges);
        this.data = data;
        this.deadlinesMs = List.copyOf(deadlinesMs);
        this.images = images;
        this.rate = rate;
        this.out = out;
        this.progress = progress;
    }

    /** Sends {@code token} with every call (edges whose device API is exposed require one); null: none. */
    public RemoteExperiment withApiToken(String token) {
        this.apiToken = token == null ? null : io.cleave.core.security.BearerToken.check(token);
        return this;
    }

    public List<RunSummary> run() throws Exception {
        Dataset ds = IdxReader.read(data, "t10k");
        List<ManagedChannel> channels = new ArrayList<>();
        try (Progress bar = Progress.logged("experiment", (long) deadlinesMs.size() * edges.size() * images, progress)) {
            for (Edge e : edges) {
                InetSocketAddress a = HostPort.parse(e.target(), "--edge " + e.name());
                NettyChannelBuilder b = NettyChannelBuilder.forAddress(a.getHostString(), a.getPort()).usePlaintext();
                if (apiToken != null) {
                    b.intercept(io.cleave.core.security.BearerToken.client(apiToken));
                }
                channels.add(b.build());
            }
            List<RequestRecord> all = Collections.synchronizedList(new ArrayList<>());
            List<RunSummary> runs = new ArrayList<>();
            Map<String, String> policies = Collections.synchronizedMap(new LinkedHashMap<>());
            for (double deadline : deadlinesMs) {
                bar.message(String.format(java.util.Locale.ROOT, "deadline %.0f ms", deadline));
                List<CompletableFuture<List<RequestRecord>>> perEdge = new ArrayList<>();
                for (int i = 0; i < edges.size(); i++) {
                    Edge e = edges.get(i);
                    EdgeAgentGrpc.EdgeAgentStub stub = EdgeAgentGrpc.newStub(channels.get(i));
                    perEdge.add(CompletableFuture.supplyAsync(() -> drive(e, stub, ds, deadline, policies, bar)));
                }
                for (int i = 0; i < edges.size(); i++) {
                    List<RequestRecord> rows = perEdge.get(i).get();
                    all.addAll(rows);
                    String policy = rows.isEmpty() ? "?" : rows.get(0).policy();
                    rows.sort(java.util.Comparator.comparingInt(RequestRecord::request));
                    runs.add(RunSummary.of(edges.get(i).name(), devices.getOrDefault(edges.get(i).name(), edges.get(i).name()), policy, deadline,
                            rows));
                }
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("device", "edge agents as deployed: " + edges.stream().map(e -> e.name() + " at " + e.target()).toList()
                    + " (device classes and links as each was started; emulated unless they run on real devices)");
            meta.put("devices", edges.stream().map(e -> {
                String d = devices.getOrDefault(e.name(), "?");
                return e.name() + " = " + DeviceClass.find(d).map(c -> c.describe() + "; calibration: " + c.source())
                        .orElse(d + " (as the edge reports itself)");
            }).toList());
            meta.put("link", "each edge's own link (see the deployment, e.g. docker-compose.yml); true bandwidth is not known to this runner");
            meta.put("images", images);
            meta.put("ratePerSecond", rate);
            // the runner does not hold the edges' packs: it scores accuracy, which is meaningless for an untrained pack
            Report.write(out, all, runs, meta, Metric.ACCURACY);
            return runs;
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /** Unrecorded requests first: the edge's JIT, connections and measurements settle before anything counts. */
    private static void warmUp(EdgeAgentGrpc.EdgeAgentStub stub, Dataset ds, double deadlineMs) throws Exception {
        EdgeAgentGrpc.EdgeAgentBlockingStub blocking = EdgeAgentGrpc.newBlockingStub(stub.getChannel());
        for (int i = 0; i < WARMUP; i++) {
            blocking.withDeadlineAfter((long) deadlineMs + 10_000, TimeUnit.MILLISECONDS).classify(ClassifyRequest.newBuilder()
                    .setRequestId("warmup-" + i).setImage(com.google.protobuf.ByteString.copyFrom(ds.image(ds.size() - 1 - i)))
                    .setDeadlineMs((long) Math.ceil(deadlineMs)).build());
        }
    }

    static final int WARMUP = 20;

    /** Each edge's device, as its answers name it. */
    private final Map<String, String> devices = Collections.synchronizedMap(new LinkedHashMap<>());

    private List<RequestRecord> drive(Edge edge, EdgeAgentGrpc.EdgeAgentStub stub, Dataset ds, double deadlineMs, Map<String, String> policies,
            Progress bar) {
        List<RequestRecord> rows = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        long period = (long) (1e9 / rate);
        try {
            warmUp(stub, ds, deadlineMs);
        } catch (Exception e) {
            throw new IllegalStateException("edge " + edge.name() + " at " + edge.target() + " does not answer: " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < images; i++) {
                long wait = t0 + i * period - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                int img = i % ds.size();
                int req = i;
                double at = (System.nanoTime() - t0) / 1e9;
                long sentAt = System.nanoTime();
                CompletableFuture<Void> done = new CompletableFuture<>();
                pending.add(done);
                ClassifyRequest r = ClassifyRequest.newBuilder().setRequestId(edge.name() + "-" + (long) deadlineMs + "-" + i)
                        .setImage(com.google.protobuf.ByteString.copyFrom(ds.image(img))).setDeadlineMs((long) Math.ceil(deadlineMs)).build();
                // the request's own deadline governs the answer; the RPC deadline only guards against a lost edge
                stub.withDeadlineAfter((long) deadlineMs + 5000, TimeUnit.MILLISECONDS).classify(r, new StreamObserver<>() {
                    @Override
                    public void onNext(ClassifyResponse c) {
                        policies.putIfAbsent(edge.name(), c.getPolicy());
                        devices.putIfAbsent(edge.name(), c.getDevice().isEmpty() ? edge.name() : c.getDevice());
                        double est = c.getEstimatedUplinkMbps() > 0 ? c.getEstimatedUplinkMbps() : Double.NaN;
                        rows.add(new RequestRecord(edge.name(), devices.get(edge.name()), c.getPolicy(), deadlineMs, req, at, c.getOffloaded(),
                                c.getOffloaded() ? c.getSplit() : -1, c.getOffloaded() ? c.getEncoding().name() : "", c.getExitIndex(), c.getBlock(),
                                c.getSource() == Source.CLOUD, c.getPredictedClass() == ds.labels()[img], c.getLatencyUs() / 1e3,
                                c.getBytesSent(), c.getDeadlineMet(), est, Double.NaN));
                    }

                    @Override
                    public void onError(Throwable t) {
                        // an error is an unanswered request: counted as a miss, with the time the runner waited
                        rows.add(new RequestRecord(edge.name(), devices.getOrDefault(edge.name(), edge.name()), policies.getOrDefault(edge.name(), "?"),
                                deadlineMs, req, at, false, -1,
                                "", -1, -1, false, false, (System.nanoTime() - sentAt) / 1e6, 0, false, Double.NaN, Double.NaN));
                        done.complete(null);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
                bar.step();
            }
            CompletableFuture.allOf(pending.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("driving edge " + edge.name() + " at " + edge.target() + " failed: " + e.getMessage(), e);
        }
        return rows;
    }
}
