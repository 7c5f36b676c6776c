package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cleave.core.data.Dataset;
import io.cleave.core.metrics.Promtool;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The three servers as real processes (coordinator, a worker heartbeating to it, an edge offloading
 * to the worker), device requests through the edge, then each Prometheus endpoint scraped over
 * HTTP: the counts match what was sent, and Prometheus's own linter accepts every endpoint.
 */
class MetricsEndpointsTest {
    static final int REQUESTS = 40;

    static String scrape(CleaveProcess p) throws Exception {
        assertThat(p.metricsPort()).as("metrics endpoint announced").isPositive();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + p.metricsPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The sum of every sample of {@code name} whose labels include {@code labels}. */
    static double sum(String exposition, String name, Map<String, String> labels) {
        double total = 0;
        boolean seen = false;
        for (String line : exposition.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            String series = line.substring(0, line.lastIndexOf(' '));
            if (labels.entrySet().stream().allMatch(e -> series.contains(e.getKey() + "=\"" + e.getValue() + "\""))) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                seen = true;
            }
        }
        assertThat(seen).as("a sample of %s with %s in:%n%s", name, labels, exposition).isTrue();
        return total;
    }

    @Test
    void edgeWorkerAndCoordinator_countWhatTheyServed_andPassPromtool() throws Exception {
        Dataset ds = TestPacks.testSet();
        try (CleaveProcess coordinator = CleaveProcess.coordinator();
                CleaveProcess worker = CleaveProcess.start("--coordinator", "127.0.0.1:" + coordinator.port());
                CleaveProcess edge = CleaveProcess.edge("--worker", "127.0.0.1:" + worker.port(), "--policy", "fixed", "--split", "2",
                        "--encoding", "FP16", "--warm-up-ms", "0")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub stub = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                int onTime = 0;
                for (int i = 0; i < REQUESTS; i++) {
                    ClassifyResponse r = stub.classify(ClassifyRequest.newBuilder().setRequestId("m" + i).setDeadlineMs(1000)
                            .setImage(ByteString.copyFrom(ds.image(i))).build());
                    onTime += r.getDeadlineMet() ? 1 : 0;
                }
                try {
                    stub.classify(ClassifyRequest.newBuilder().setDeadlineMs(0).setImage(ByteString.copyFrom(ds.image(0))).build());
                } catch (StatusRuntimeException expected) {
                    // INVALID_ARGUMENT: counted below
                }

                String e = scrape(edge);
                assertThat(Promtool.problems(e)).as("promtool check metrics, edge").isEmpty();
                assertThat(sum(e, "cleave_edge_requests_total", Map.of("code", "OK"))).isEqualTo(REQUESTS);
                assertThat(sum(e, "cleave_edge_requests_total", Map.of("code", "INVALID_ARGUMENT", "source", "none"))).isEqualTo(1);
                assertThat(sum(e, "cleave_edge_deadlines_total", Map.of("met", "true"))).isEqualTo(onTime);
                assertThat(sum(e, "cleave_edge_latency_seconds_count", Map.of())).isEqualTo(REQUESTS);
                assertThat(sum(e, "cleave_edge_plans_total", Map.of("offload", "true", "split", "2", "encoding", "fp16"))).isEqualTo(REQUESTS);
                // FP16 tokens after block 2: 50 x 64 halves per request
                assertThat(sum(e, "cleave_edge_sent_bytes_sum", Map.of("encoding", "fp16"))).isEqualTo(REQUESTS * 6400.0);
                assertThat(sum(e, "cleave_edge_info", Map.of("policy", "fixed"))).isEqualTo(1);
                assertThat(sum(e, "jvm_memory_used_bytes", Map.of())).isPositive();

                String w = scrape(worker);
                assertThat(Promtool.problems(w)).as("promtool check metrics, worker").isEmpty();
                assertThat(sum(w, "cleave_rpc_server_calls_total", Map.of("method", "Infer", "code", "OK"))).isGreaterThanOrEqualTo(REQUESTS);
                assertThat(sum(w, "cleave_worker_batch_requests_sum", Map.of())).as("requests through block 3")
                        .isGreaterThanOrEqualTo(REQUESTS);
                assertThat(sum(w, "cleave_worker_segment_seconds_count", Map.of("kind", "block", "index", "8"))).isPositive();
                assertThat(sum(w, "cleave_worker_queued_requests", Map.of())).isZero();

                String c = scrape(coordinator);
                assertThat(Promtool.problems(c)).as("promtool check metrics, coordinator").isEmpty();
                assertThat(sum(c, "cleave_coordinator_live_workers", Map.of())).isEqualTo(1);
                assertThat(sum(c, "cleave_rpc_server_calls_total", Map.of("method", "Heartbeat", "code", "OK"))).isPositive();
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
