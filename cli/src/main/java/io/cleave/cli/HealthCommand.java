package io.cleave.cli;

import io.cleave.core.net.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** A gRPC health check (grpc.health.v1) of a worker, edge agent or coordinator: exit 0 when SERVING. */
@Command(name = "health", mixinStandardHelpOptions = true,
        description = "Ask a Cleave server's gRPC health service whether it is serving (for container health checks): prints the status, "
                + "exits 0 when SERVING, 1 otherwise. With --tls-dir, over mutual TLS with DIR/NAME.crt (NAME: --tls-name, default edge).")
final class HealthCommand implements Callable<Integer> {
    @Parameters(paramLabel = "HOST:PORT", description = "the server") String target;
    @Option(names = "--service", defaultValue = "${env:CLEAVE_HEALTH_SERVICE:-}",
            description = "service name; empty: the whole server (default: empty; env CLEAVE_HEALTH_SERVICE)") String service;
    @Option(names = "--timeout-ms", defaultValue = "${env:CLEAVE_HEALTH_TIMEOUT_MS:-2000}",
            description = "how long to wait for the answer (default: ${DEFAULT-VALUE}; env CLEAVE_HEALTH_TIMEOUT_MS)") long timeoutMs;

    @picocli.CommandLine.Mixin
    TlsOptions tlsOptions;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress a = HostPort.parse(target, "HOST:PORT");
        // a server with mutual TLS wants a Cleave certificate: any role may ask for health (--tls-name, default edge)
        ManagedChannel ch = NettyChannelBuilder.forAddress(a.getHostString(), a.getPort(), tlsOptions.tls("edge").channelCredentials()).build();
        try {
            HealthCheckResponse r = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                    .check(HealthCheckRequest.newBuilder().setService(service).build());
            System.out.println(target + ": " + r.getStatus());
            return r.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? 0 : 1;
        } catch (StatusRuntimeException e) {
            System.out.println(target + ": " + e.getStatus().getCode() + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription()));
            return 1;
        } finally {
            ch.shutdownNow();
        }
    }
}
