package io.cleave.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The scrape endpoint over real HTTP on loopback. */
class MetricsTest {
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> send(InetSocketAddress at, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheRegistryAndTheJvmMeters_inPrometheusTextFormat() throws Exception {
        try (Metrics m = new Metrics()) {
            io.micrometer.core.instrument.Counter.builder("cleave.test.things").description("Things counted by the test").tag("kind", "a")
                    .register(m.registry()).increment(3);
            InetSocketAddress at = m.serve("127.0.0.1", 0);
            assertThat(at.getPort()).isPositive();
            HttpResponse<String> r = send(at, "GET", Metrics.PATH);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(Promtool.problems(r.body())).as("promtool check metrics").isEmpty();
            assertThat(r.body()).contains("# TYPE cleave_test_things_total counter", "cleave_test_things_total{kind=\"a\"} 3.0",
                    "jvm_memory_used_bytes{", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads", "process_uptime_seconds");
        }
    }

    @Test
    void anotherPathOrMethod_isRefusedPlainly() throws Exception {
        try (Metrics m = new Metrics()) {
            InetSocketAddress at = m.serve("127.0.0.1", 0);
            assertThat(send(at, "GET", "/metricsx").statusCode()).isEqualTo(404);
            HttpResponse<String> post = send(at, "POST", Metrics.PATH);
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
            assertThat(send(at, "HEAD", Metrics.PATH).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void closing_releasesThePort() throws Exception {
        int port;
        try (Metrics m = new Metrics()) {
            port = m.serve("127.0.0.1", 0).getPort();
        }
        try (Metrics again = new Metrics()) {
            assertThat(again.serve("127.0.0.1", port).getPort()).isEqualTo(port);
        }
    }
}
