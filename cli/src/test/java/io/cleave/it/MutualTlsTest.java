package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.cleave.cli.Cleave;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.Source;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS and roles between real processes, with certificates from `cleave certs`: a coordinator
 * and a worker with --tls-dir, an edge that offloads to that worker over TLS, and foreign clients
 * on loopback trying what the hardening issue found (a worker hijack, calls out of role, no or a
 * wrong certificate).
 */
class MutualTlsTest {
    @TempDir
    static Path certs;
    @TempDir
    static Path foreign;
    static CleaveProcess coordinator;
    static CleaveProcess worker;

    @BeforeAll
    static void start() throws Exception {
        assertThat(Cleave.commandLine().execute("certs", "--out", certs.toString(), "--host", "127.0.0.1",
                "--component", "edge,worker,coordinator")).isZero();
        // a worker certificate from the same CA that names another host: it may not advertise 127.0.0.1
        assertThat(Cleave.commandLine().execute("certs", "--out", certs.toString(), "--host", "127.0.0.9",
                "--component", "worker:elsewhere")).isZero();
        // a whole other CA, with an edge certificate
        assertThat(Cleave.commandLine().execute("certs", "--out", foreign.toString(), "--host", "127.0.0.1",
                "--component", "edge")).isZero();
        coordinator = CleaveProcess.coordinator("--tls-dir", certs.toString(), "--health-port", "0");
        worker = CleaveProcess.start("--tls-dir", certs.toString(), "--coordinator", coordinator.target(), "--health-port", "0");
    }

    @AfterAll
    static void stop() throws Exception {
        if (worker != null) {
            worker.close();
        }
        if (coordinator != null) {
            coordinator.close();
        }
    }

    static ChannelCredentials as(Path dir, String name) throws Exception {
        return TlsChannelCredentials.newBuilder().keyManager(dir.resolve(name + ".crt").toFile(), dir.resolve(name + ".key").toFile())
                .trustManager(certs.resolve("ca.crt").toFile()).build();
    }

    static <T> T call(CleaveProcess server, ChannelCredentials creds, Function<ManagedChannel, T> rpc) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port(), creds).build();
        try {
            return rpc.apply(ch);
        } finally {
            ch.shutdownNow();
        }
    }

    static Status refused(CleaveProcess server, ChannelCredentials creds, Function<ManagedChannel, ?> rpc) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> call(server, creds, rpc));
        assertThat(e).as("refused").isNotNull();
        return e.getStatus();
    }

    static Function<ManagedChannel, Assignment> assign() {
        return ch -> CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                .assign(AssignRequest.newBuilder().setEdgeId("e").setModelId(TestPacks.pack().id()).build());
    }

    static Function<ManagedChannel, Object> heartbeat(String target) {
        return ch -> CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                .heartbeat(WorkerHeartbeat.newBuilder().setWorkerId("hijack").setTarget(target).setModelId(TestPacks.pack().id())
                        .setModelVersion(TestPacks.pack().version()).setQueued(0).build());
    }

    /** The port of a server's plaintext health-only port, from its start-up line. */
    static int healthPort(CleaveProcess server, String role) {
        var m = java.util.regex.Pattern.compile("cleave " + role + " health on 127\\.0\\.0\\.1:(\\d+) \\(plaintext").matcher(server.log());
        assertThat(m.find()).as("health line in the %s's output", role).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void theHealthOnlyPort_answersHealthInPlaintext_andNothingElse_whileTheMainPortStaysMutualTls() {
        for (var server : java.util.List.of(java.util.Map.entry("worker", "cleave.v1.InferenceWorker"),
                java.util.Map.entry("coordinator", "cleave.v1.Coordinator"))) {
            CleaveProcess p = server.getKey().equals("worker") ? worker : coordinator;
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", healthPort(p, server.getKey()), InsecureChannelCredentials.create())
                    .build();
            try {
                var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS);
                for (String service : new String[] {server.getValue(), ""}) {
                    assertThat(health.check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
                            .as("%s health of '%s' in plaintext", server.getKey(), service)
                            .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
                }
                StatusRuntimeException other = catchThrowableOfType(StatusRuntimeException.class, () -> {
                    if (server.getKey().equals("worker")) {
                        InferenceWorkerGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).describe(DescribeRequest.getDefaultInstance());
                    } else {
                        assign().apply(ch);
                    }
                });
                assertThat(other.getStatus().getCode()).as("the %s's own service on its health port", server.getKey())
                        .isEqualTo(Status.Code.UNIMPLEMENTED);
            } finally {
                ch.shutdownNow();
            }
            assertThat(refused(p, InsecureChannelCredentials.create(), ch2 -> io.grpc.health.v1.HealthGrpc.newBlockingStub(ch2)
                    .withDeadlineAfter(5, TimeUnit.SECONDS).check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance())).getCode())
                    .as("plaintext on the %s's main port", server.getKey()).isEqualTo(Status.Code.UNAVAILABLE);
        }
    }

    @Test
    void anEdgeCertificate_isAssignedTheRealWorker() throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Assignment a;
        do {
            a = call(coordinator, as(certs, "edge"), assign());
        } while (!a.getWorkerTarget().equals(worker.target()) && System.nanoTime() < until && sleep());
        assertThat(a.getWorkerTarget()).as("the worker registered over mutual TLS").isEqualTo(worker.target());
    }

    @Test
    void theHealthCommand_speaksMutualTls() {
        assertThat(Cleave.commandLine().execute("health", coordinator.target(), "--tls-dir", certs.toString())).isZero();
        assertThat(Cleave.commandLine().execute("health", worker.target(), "--tls-dir", certs.toString(), "--tls-name", "worker")).isZero();
        assertThat(Cleave.commandLine().execute("health", coordinator.target())).as("plaintext against TLS").isEqualTo(1);
    }

    @Test
    void noClientCertificate_aForeignCa_orPlaintext_areRefused() throws Exception {
        ChannelCredentials serverOnly = TlsChannelCredentials.newBuilder().trustManager(certs.resolve("ca.crt").toFile()).build();
        assertThat(refused(coordinator, serverOnly, assign()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        ChannelCredentials foreignEdge = TlsChannelCredentials.newBuilder()
                .keyManager(foreign.resolve("edge.crt").toFile(), foreign.resolve("edge.key").toFile())
                .trustManager(certs.resolve("ca.crt").toFile()).build();
        assertThat(refused(coordinator, foreignEdge, assign()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(refused(worker, InsecureChannelCredentials.create(), ch -> InferenceWorkerGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS).describe(DescribeRequest.getDefaultInstance())).getCode())
                .isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void callsOutOfRole_arePermissionDenied() throws Exception {
        Status edgeBeats = refused(coordinator, as(certs, "edge"), heartbeat("127.0.0.1:17500"));
        assertThat(edgeBeats.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(edgeBeats.getDescription()).contains("Heartbeat is for worker certificates", "edge 'edge'");
        Status workerAsks = refused(coordinator, as(certs, "worker"), assign());
        assertThat(workerAsks.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(workerAsks.getDescription()).contains("Assign is for edge certificates");
        Status workerInfers = refused(worker, as(certs, "coordinator"), ch -> InferenceWorkerGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS).describe(DescribeRequest.getDefaultInstance()));
        assertThat(workerInfers.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    @Test
    void theHijack_aWorkerAdvertisingAnAddressItsCertificateDoesNotName_isRefusedAndNeverAssigned() throws Exception {
        // the hardening issue's attack: a made-up worker on 127.0.0.1:17500 with a huge negative queue
        Status s = refused(coordinator, as(certs, "elsewhere"), ch -> CoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS).heartbeat(WorkerHeartbeat.newBuilder().setWorkerId("hijack")
                        .setTarget("127.0.0.1:17500").setModelId(TestPacks.pack().id()).setModelVersion(TestPacks.pack().version())
                        .setQueued(0).build()));
        assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(s.getDescription()).contains("may not advertise 127.0.0.1:17500", "127.0.0.9");
        for (int i = 0; i < 5; i++) {
            assertThat(call(coordinator, as(certs, "edge"), assign()).getWorkerTarget()).isNotEqualTo("127.0.0.1:17500");
            sleep();
        }
    }

    @Test
    void anEdgeWithItsCertificate_offloadsToTheWorkerOverMutualTls() throws Exception {
        try (CleaveProcess edge = CleaveProcess.edge("--tls-dir", certs.toString(), "--worker", worker.target(), "--policy", "fixed",
                "--split", "2", "--threshold", "2.0")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                boolean cloud = false;
                for (int i = 0; i < 20 && !cloud; i++) {
                    ClassifyResponse r = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                            .classify(ClassifyRequest.newBuilder().setRequestId("t" + i).setDeadlineMs(2000)
                                    .setImage(ByteString.copyFrom(TestPacks.testSet().image(i))).build());
                    assertThat(r.getOffloaded()).isTrue();
                    cloud = r.getSource() == Source.CLOUD;
                }
                assertThat(cloud).as("an answer from the worker, over mutual TLS").isTrue();
            } finally {
                ch.shutdownNow();
            }
        }
    }

    static boolean sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }
}
