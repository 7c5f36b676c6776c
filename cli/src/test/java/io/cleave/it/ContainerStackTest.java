package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.testing.TestPacks;
import io.cleave.experiment.RemoteExperiment;
import io.cleave.experiment.RunSummary;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The project's images as docker-compose runs them: coordinator, worker, a link container (CONNECT
 * proxy, shaped and delayed) and an edge agent behind it, on their own Docker network, with mutual TLS
 * between them (certificates from `cleave certs`) and a token on the exposed device API; a short
 * experiment drives the edge from here. Needs a Docker engine and the images (docker-compose build);
 * skipped with a message otherwise. `.ci/run` builds them whenever it can start Docker.
 */
class ContainerStackTest {
    private static final String TAG = System.getProperty("cleave.images.tag", "dev");

    @Test
    void composeImages_answerEveryRequestThroughTheEmulatedLink(@TempDir Path out, @TempDir Path certs) throws Exception {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            docker = false;
        }
        Assumptions.assumeTrue(docker, "skipped: no Docker engine reachable (start dockerd; see README, docker-compose)");
        for (String image : List.of("coordinator", "worker", "edge", "experiments")) {
            Assumptions.assumeTrue(imageExists("cleave/" + image + ":" + TAG),
                    "skipped: image cleave/" + image + ":" + TAG + " is not built (mvn -B -DskipTests package && docker-compose build)");
        }
        // mutual TLS between the containers, as the compose stack runs: certificates naming the network aliases
        assertThat(io.cleave.cli.Cleave.commandLine().execute("certs", "--out", certs.toString(), "--host", "coordinator,worker,localhost")).isZero();
        byte[] secret = new byte[16];
        new java.security.SecureRandom().nextBytes(secret);
        String token = java.util.HexFormat.of().formatHex(secret);
        try (Network net = Network.newNetwork();
                GenericContainer<?> coordinator = container("coordinator", net, "coordinator", certs);
                GenericContainer<?> worker = container("worker", net, "worker", certs)
                        .withEnv("CLEAVE_COORDINATOR", "coordinator:7300").withEnv("CLEAVE_WORKER_ADVERTISE", "worker:7000");
                GenericContainer<?> link = new GenericContainer<>(DockerImageName.parse("cleave/experiments:" + TAG)).withNetwork(net)
                        .withNetworkAliases("link").withCommand("link", "--host", "0.0.0.0", "--port", "7400", "--rate-mbps", "20",
                                "--downlink-rate-mbps", "20", "--delay-ms", "5")
                        .waitingFor(Wait.forLogMessage(".*cleave link listening on.*", 1).withStartupTimeout(Duration.ofMinutes(2)));
                GenericContainer<?> edge = container("edge", net, "edge", certs).withEnv("CLEAVE_API_TOKEN", token)
                        .withEnv("CLEAVE_COORDINATOR", "coordinator:7300").withEnv("CLEAVE_WORKERS", "worker:7000")
                        .withEnv("CLEAVE_EDGE_VIA", "link:7400").withEnv("CLEAVE_EDGE_POLICY", "cloud-only")
                        .withExposedPorts(7100)) {
            org.testcontainers.lifecycle.Startables.deepStart(coordinator, worker, link).join(); // each health check takes a while: in parallel
            edge.start();
            String target = edge.getHost() + ":" + edge.getMappedPort(7100);
            // the device API is exposed (bound to 0.0.0.0 in its container): no token, no service
            io.grpc.ManagedChannel ch = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(target).usePlaintext().build();
            try {
                io.grpc.StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(io.grpc.StatusRuntimeException.class,
                        () -> io.cleave.proto.v1.EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                                .classify(io.cleave.proto.v1.ClassifyRequest.newBuilder().setDeadlineMs(500)
                                        .setImage(com.google.protobuf.ByteString.copyFrom(TestPacks.testSet().image(0))).build()));
                assertThat(e).isNotNull();
                assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
            } finally {
                ch.shutdownNow();
            }
            List<RunSummary> runs = new RemoteExperiment(List.of(RemoteExperiment.Edge.parse("docker=" + target)), TestPacks.dataDir(),
                    List.of(500.0), 40, 10, out, new PrintStream(java.io.OutputStream.nullOutputStream())).withApiToken(token).run();
            assertThat(runs).hasSize(1);
            RunSummary r = runs.get(0);
            assertThat(r.requests()).isEqualTo(40);
            assertThat(r.policy()).isEqualTo("cloud-only");
            assertThat(r.deadlineHitRate()).isGreaterThanOrEqualTo(0.95);
            assertThat(r.offloadRate()).isEqualTo(1.0); // every request crossed the link to the worker container
            assertThat(r.accuracyAtDeadline()).isGreaterThan(0.75);
            assertThat(Files.readString(out.resolve("requests.csv"))).contains(",cloud,");
            assertThat(out.resolve("accuracy-vs-deadline.png")).isNotEmptyFile();
        }
    }

    private static GenericContainer<?> container(String image, Network net, String alias, Path certs) {
        return new GenericContainer<>(DockerImageName.parse("cleave/" + image + ":" + TAG)).withNetwork(net).withNetworkAliases(alias)
                .withCopyFileToContainer(org.testcontainers.utility.MountableFile.forHostPath(certs), "/certs").withEnv("CLEAVE_TLS_DIR", "/certs")
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(3)));
    }

    private static boolean imageExists(String name) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(name).exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
