package io.cleave.core.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One process's metrics: a Micrometer registry in Prometheus form, with the JVM's own meters
 * (memory, collector pauses, threads, classes, CPU, uptime), and optionally an HTTP endpoint that
 * Prometheus scrapes ({@code GET /metrics}, text format 0.0.4). The endpoint is the JDK's own HTTP
 * server on one daemon thread: a scrape every few seconds needs no framework.
 */
public final class Metrics implements AutoCloseable {
    /** A metrics port meaning "no endpoint". */
    public static final int OFF = -1;
    /**
     * {@code port} when it is a metrics port (0 to 65535, or {@link #OFF}); else IllegalArgumentException naming
     * {@code option} and what is allowed.
     */
    public static int checkPort(int port, String option) {
        if (port < OFF || port > 65535) {
            throw new IllegalArgumentException(option + " must be 0 to 65535, or " + OFF + " for none, got " + port);
        }
        return port;
    }

    /** The scrape path. */
    public static final String PATH = "/metrics";
    /** Latency histogram buckets shared by the components (deadlines are tens to hundreds of ms). */
    public static final Duration[] LATENCY_BUCKETS = {ms(1), ms(2), ms(5), ms(10), ms(20), ms(30), ms(50), ms(75), ms(100),
            ms(150), ms(200), ms(300), ms(500), ms(1000), ms(2000), ms(5000)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private HttpServer http;
    private ExecutorService httpThread;

    public Metrics() {
        // two of Micrometer's processor meters break Prometheus's naming rules (promtool check metrics): a counter in
        // nanoseconds (process.cpu.usage stays) and a gauge ending in _count
        registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                    }
                });
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The current values in Prometheus text format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Serves {@link #PATH} on {@code host:port} (0: any free port); returns the bound address.
     *
     * @throws IOException when the address cannot be bound (in use, not local)
     */
    public synchronized InetSocketAddress serve(String host, int port) throws IOException {
        if (http != null) {
            throw new IllegalStateException("metrics endpoint already serving on " + http.getAddress());
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (java.net.BindException e) {
            throw new java.net.BindException("metrics port " + port + " on " + host + ": " + e.getMessage()
                    + " (choose another; 0 picks a free one, " + OFF + " serves none)");
        }
        server.createContext(PATH, this::handle);
        httpThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cleave-metrics-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(httpThread);
        server.start();
        http = server;
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!PATH.equals(ex.getRequestURI().getPath())) {
                reply(ex, 404, "text/plain; charset=utf-8", "not found: the metrics are at " + PATH + "\n");
            } else if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(ex, 405, "text/plain; charset=utf-8", "method not allowed: GET or HEAD\n");
            } else {
                reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", scrape());
            }
        }
    }

    private static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Stops the endpoint (if any) and the collector listener. */
    @Override
    public synchronized void close() {
        if (http != null) {
            http.stop(0);
            httpThread.shutdownNow();
            http = null;
        }
        gc.close();
        registry.close();
    }

    private static Duration ms(long n) {
        return Duration.ofMillis(n);
    }
}
