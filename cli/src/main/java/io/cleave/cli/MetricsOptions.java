package io.cleave.cli;

import io.cleave.core.metrics.Metrics;
import java.net.InetSocketAddress;
import picocli.CommandLine.Option;

/** The Prometheus endpoint of a server command: {@code --metrics-port}, each role with its own default port. */
final class MetricsOptions {
    /** Default ports, one per role, so that the three can share a host. */
    static final int EDGE_PORT = 9470;
    static final int WORKER_PORT = 9471;
    static final int COORDINATOR_PORT = 9472;

    @Option(names = "--metrics-port", defaultValue = "${env:CLEAVE_METRICS_PORT}", paramLabel = "PORT",
            description = "serve Prometheus metrics (GET /metrics) on --host at this port; 0 picks a free one, -1 serves none "
                    + "(default: edge " + EDGE_PORT + ", worker " + WORKER_PORT + ", coordinator " + COORDINATOR_PORT
                    + "; env CLEAVE_METRICS_PORT)")
    Integer port;

    /** The port asked for, or the role's default; checked. */
    int port(int roleDefault) {
        return Metrics.checkPort(port == null ? roleDefault : port, "--metrics-port");
    }

    /** The line scripts and tests read: where a server's metrics are. */
    static void announce(String role, InetSocketAddress at) {
        if (at != null) {
            System.out.println("cleave " + role + " metrics on http://" + at.getHostString() + ":" + at.getPort() + Metrics.PATH);
        }
    }
}
