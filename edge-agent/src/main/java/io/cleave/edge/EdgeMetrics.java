package io.cleave.edge;

import io.cleave.core.metrics.Metrics;
import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Candidate;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What an edge agent reports to Prometheus. Every label has a bounded set of values: a gRPC code,
 * local or cloud, an exit index or split point of the pack, an encoding.
 *
 * <ul>
 *   <li>{@code cleave_edge_requests_total{code, source, exit}}: every device request, by how it ended (OK, or
 *       RESOURCE_EXHAUSTED when refused at admission, DEADLINE_EXCEEDED, INVALID_ARGUMENT...), where its answer was
 *       computed and which exit answered ({@code none} without an answer);
 *   <li>{@code cleave_edge_deadlines_total{met}}: answered requests, on time or late;
 *   <li>{@code cleave_edge_latency_seconds}: from accepting a request to deciding its answer (histogram);
 *   <li>{@code cleave_edge_plans_total{offload, split, encoding}}: the plan each answered request followed;
 *   <li>{@code cleave_edge_sent_bytes}: payload bytes each offloaded request sent, by encoding (summary);
 *   <li>gauges: the planner's uplink and RTT estimates, requests awaiting their first local exit, the deadline
 *       timer's guard;
 *   <li>{@code cleave_edge_info{pack, policy, device}} 1.
 * </ul>
 */
public final class EdgeMetrics {
    private final MeterRegistry registry;

    private final Counter deadlinesMet;
    private final Counter deadlinesMissed;
    private final Timer latency;
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Counter> plans = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> sent = new ConcurrentHashMap<>();

    public EdgeMetrics(MeterRegistry registry) {
        this.registry = registry;
        deadlinesMet = deadlines(registry, true);
        deadlinesMissed = deadlines(registry, false);
        latency = Timer.builder("cleave.edge.latency").description("From accepting a device request to deciding its answer")
                .serviceLevelObjectives(Metrics.LATENCY_BUCKETS).register(registry);
    }

    private static Counter deadlines(MeterRegistry registry, boolean met) {
        return Counter.builder("cleave.edge.deadlines").description("Answered device requests, by whether the answer was decided by the deadline")
                .tag("met", Boolean.toString(met)).register(registry);
    }

    /** Meters kept nowhere: an edge without a metrics endpoint (embedded, or in tests that do not look). */
    public static EdgeMetrics none() {
        return new EdgeMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The constant facts of this edge, as an info metric. */
    public EdgeMetrics describe(String pack, String policy, String device) {
        Gauge.builder("cleave.edge.info", () -> 1).description("This edge agent's model pack, planning policy and device class")
                .tag("pack", pack).tag("policy", policy).tag("device", device == null || device.isEmpty() ? "none" : device)
                .register(registry);
        return this;
    }

    /** A live value read at each scrape (NaN: not known yet). */
    public EdgeMetrics gauge(String name, String description, String baseUnit, Supplier<Number> value) {
        Gauge.builder(name, () -> value.get()).description(description).baseUnit(baseUnit).strongReference(true).register(registry);
        return this;
    }

    /** A request answered: its latency is from accepting it to deciding its answer. */
    public void answered(Outcome o) {
        Candidate c = o.answer().candidate();
        request(Status.Code.OK, c.cloud() ? "cloud" : "local", Integer.toString(c.exit()));
        (o.answer().deadlineMet() ? deadlinesMet : deadlinesMissed).increment();
        latency.record(o.answer().latencyNanos(), TimeUnit.NANOSECONDS);
        Plan p = o.plan();
        String encoding = p.offload() ? p.encoding().name().toLowerCase(Locale.ROOT) : "none";
        String split = p.offload() ? Integer.toString(p.split()) : "none";
        plans.computeIfAbsent(p.offload() + "/" + split + "/" + encoding, k -> Counter.builder("cleave.edge.plans")
                .description("The plan each answered device request followed").tag("offload", Boolean.toString(p.offload()))
                .tag("split", split).tag("encoding", encoding).register(registry)).increment();
        if (o.bytesSent() > 0) {
            sent.computeIfAbsent(encoding, k -> DistributionSummary.builder("cleave.edge.sent")
                    .description("Payload bytes an offloaded request sent to the cloud").baseUnit("bytes").tag("encoding", k)
                    .register(registry)).record(o.bytesSent());
        }
    }

    /** A request that ended with an error status (refused at admission, deadline exceeded, invalid input...). */
    public void failed(Status.Code code) {
        request(code, "none", "none");
    }

    // meters looked up once per label set, not built and registered on every request: this runs on the answer path
    private void request(Status.Code code, String source, String exit) {
        requests.computeIfAbsent(code.name() + "/" + source + "/" + exit, k -> Counter.builder("cleave.edge.requests")
                .description("Device requests, by gRPC status, where the answer was computed and which exit answered")
                .tag("code", code.name()).tag("source", source).tag("exit", exit).register(registry)).increment();
    }
}
