package io.cleave.cli;

import io.cleave.coordinator.CoordinatorConfig;
import io.cleave.coordinator.CoordinatorServer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the coordinator until interrupted. */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
        description = "Run the coordinator (control plane): workers heartbeat to it, edges follow its load-aware worker assignment.")
final class CoordinatorCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "${env:CLEAVE_COORDINATOR_HOST:-" + CoordinatorConfig.DEFAULT_HOST + "}",
            description = "bind address (default: ${DEFAULT-VALUE}; env CLEAVE_COORDINATOR_HOST)")
    String host;

    @Option(names = "--port", defaultValue = "${env:CLEAVE_COORDINATOR_PORT:-" + CoordinatorConfig.DEFAULT_PORT + "}",
            description = "port; 0 picks a free one (default: ${DEFAULT-VALUE}; env CLEAVE_COORDINATOR_PORT)")
    int port;

    @Option(names = "--heartbeat-ms", defaultValue = "${env:CLEAVE_COORDINATOR_HEARTBEAT_MS:-" + CoordinatorConfig.DEFAULT_HEARTBEAT_PERIOD_MILLIS + "}",
            description = "expected heartbeat period; 3 missed drain a worker (default: ${DEFAULT-VALUE}; "
                    + "env CLEAVE_COORDINATOR_HEARTBEAT_MS)")
    long heartbeatMs;

    @Mixin
    MetricsOptions metrics;

    @Mixin
    HealthPortOptions health = new HealthPortOptions();

    @Mixin
    TlsOptions tlsOptions;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Mixin LogOptions logs = new LogOptions();

    @Override
    public Integer call() throws Exception {
        if (config.printIfAsked(spec)) {
            return 0;
        }
        logs.apply();
        if (heartbeatMs <= 0) {
            throw new IllegalArgumentException("--heartbeat-ms must be positive, got " + heartbeatMs);
        }
        CoordinatorConfig cfg = CoordinatorConfig.builder().host(host).port(port).heartbeatPeriodMillis(heartbeatMs)
                .metricsPort(metrics.port(MetricsOptions.COORDINATOR_PORT)).healthPort(health.port()).tls(tlsOptions.tls("coordinator")).build();
        tlsOptions.requireChoice("coordinator", host);
        CoordinatorServer server = CoordinatorServer.start(cfg);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "cleave-coordinator-shutdown"));
        MetricsOptions.announce("coordinator", server.metricsAddress());
        HealthPortOptions.announce("coordinator", server.healthAddress());
        System.out.println("cleave coordinator listening on " + host + ":" + server.port() + " (" + TlsOptions.describe(cfg.tls()) + ")");
        System.out.flush();
        server.awaitTermination();
        return 0;
    }
}
