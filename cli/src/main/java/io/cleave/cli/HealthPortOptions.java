package io.cleave.cli;

import io.cleave.core.metrics.Metrics;
import java.net.InetSocketAddress;
import picocli.CommandLine.Option;

/**
 * {@code --health-port}: a plaintext port serving only this server's gRPC health (grpc.health.v1), for probes that cannot
 * speak the main port's mutual TLS, such as Kubernetes' native {@code grpc:} probe. Off unless asked for.
 */
final class HealthPortOptions {
    @Option(names = "--health-port", defaultValue = "${env:CLEAVE_HEALTH_PORT:--1}", paramLabel = "PORT",
            description = "also serve this server's gRPC health, and nothing else, in plaintext on --host at this port (for probes "
                    + "without TLS, e.g. Kubernetes' grpc: probe); 0 picks a free one, -1 serves none (default: ${DEFAULT-VALUE}; "
                    + "env CLEAVE_HEALTH_PORT)")
    int port;

    /** The port asked for; checked. */
    int port() {
        return Metrics.checkPort(port, "--health-port");
    }

    /** The line scripts and tests read: where a server's health-only port is. */
    static void announce(String role, InetSocketAddress at) {
        if (at != null) {
            System.out.println("cleave " + role + " health on " + at.getHostString() + ":" + at.getPort() + " (plaintext, grpc.health.v1 only)");
        }
    }
}
