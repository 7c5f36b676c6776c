package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cleave.core.security.Identity;
import io.cleave.core.security.Role;
import io.cleave.core.security.Tls;
import io.cleave.core.server.ServerLimits;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates from the development CA, checked by a real mutual-TLS server on loopback. */
class DevCertificatesTest {
    @TempDir
    Path dir;

    HealthCheckResponse.ServingStatus check(Server server, String name) throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort(), TlsChannelCredentials.newBuilder()
                .keyManager(dir.resolve(name + ".crt").toFile(), dir.resolve(name + ".key").toFile())
                .trustManager(dir.resolve("ca.crt").toFile()).build()).build();
        try {
            return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                    .getStatus();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aValidCertificateIsServed_anExpiredOneFromTheSameCaIsRefused() throws Exception {
        Instant now = Instant.now();
        DevCertificates.Issued ca = DevCertificates.authority("test CA", now.minus(Duration.ofDays(10)), now.plus(Duration.ofDays(10)));
        DevCertificates.write(dir, "ca", ca);
        List<String> hosts = List.of("127.0.0.1", "localhost");
        DevCertificates.write(dir, "worker", DevCertificates.component(ca, Role.WORKER, "worker", hosts, now.minusSeconds(60),
                now.plus(Duration.ofDays(1))));
        DevCertificates.write(dir, "edge", DevCertificates.component(ca, Role.EDGE, "edge", hosts, now.minusSeconds(60),
                now.plus(Duration.ofDays(1))));
        DevCertificates.write(dir, "old", DevCertificates.component(ca, Role.EDGE, "old", hosts, now.minus(Duration.ofDays(5)),
                now.minus(Duration.ofDays(1))));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("edge.key")))).isEqualTo("rw-------");
        assertThat(Identity.of(DevCertificates.read(dir, "worker").certificate())).hasValueSatisfying(id -> {
            assertThat(id.role()).isEqualTo(Role.WORKER);
            assertThat(id.name()).isEqualTo("worker");
            assertThat(id.vouchesFor("127.0.0.1")).isTrue();
            assertThat(id.vouchesFor("LOCALHOST")).isTrue();
            assertThat(id.vouchesFor("127.0.0.2")).isFalse();
        });
        Server server = ServerLimits.netty(new InetSocketAddress("127.0.0.1", 0), 16, Tls.fromDirectory(dir, "worker"))
                .addService(new HealthStatusManager().getHealthService()).build().start();
        try {
            assertThat(check(server, "edge")).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> check(server, "old"));
            assertThat(e).as("an expired client certificate").isNotNull();
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void theCommand_reusesItsCa_andRefusesBadNamesInOneLine() throws Exception {
        assertThat(Cleave.commandLine().execute("certs", "--out", dir.toString(), "--component", "worker:w1")).isZero();
        String ca = Files.readString(dir.resolve("ca.crt"));
        assertThat(Cleave.commandLine().execute("certs", "--out", dir.toString(), "--component", "worker:w2")).isZero();
        assertThat(Files.readString(dir.resolve("ca.crt"))).as("the CA is kept").isEqualTo(ca);
        assertThat(Identity.of(DevCertificates.read(dir, "w2").certificate()).map(Identity::name)).hasValue("w2");
        assertThat(Cleave.commandLine().execute("certs", "--out", dir.toString(), "--component", "gateway")).isEqualTo(2);
        assertThat(Cleave.commandLine().execute("certs", "--out", dir.toString(), "--component", "worker:../x")).isEqualTo(2);
        assertThat(Cleave.commandLine().execute("certs", "--out", dir.toString(), "--host", "bad host")).isEqualTo(2);
    }
}
