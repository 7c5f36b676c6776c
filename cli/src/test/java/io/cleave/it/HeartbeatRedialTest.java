package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.coordinator.CoordinatorConfig;
import io.cleave.coordinator.CoordinatorServer;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker whose coordinator is down at first (a replica restarting) dials it again at every heartbeat: once the
 * coordinator listens, it knows the worker within about one period. With gRPC's own reconnect backoff (1 s, x1.6 per
 * failure, +-20%) the next dial after 3 s down comes 4.2-6.2 s after the first failure, over 1 s after it listens.
 */
class HeartbeatRedialTest {
    @Test
    void aCoordinatorThatComesBack_learnsOfTheWorkerWithinAboutOnePeriod() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there until the coordinator starts
        }
        WorkerConfig wc = WorkerConfig.builder(TestPacks.packDir()).host("127.0.0.1").port(0).coordinator("127.0.0.1:" + port)
                .shutdownGraceMillis(500).build();
        try (WorkerServer worker = WorkerServer.start(wc)) {
            Thread.sleep(3_000); // heartbeats failing: connection refused
            try (CoordinatorServer coordinator = CoordinatorServer.start(CoordinatorConfig.builder().host("127.0.0.1").port(port).build())) {
                long up = System.nanoTime();
                ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
                try {
                    var stub = CoordinatorGrpc.newBlockingStub(ch);
                    long end = up + TimeUnit.SECONDS.toNanos(10);
                    while (stub.assign(AssignRequest.newBuilder().setModelId(TestPacks.pack().id()).build()).getLiveWorkers() == 0
                            && System.nanoTime() < end) {
                        Thread.sleep(5);
                    }
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - up);
                    System.out.println("HeartbeatRedialTest: the coordinator knew the worker " + millis + " ms after it listened");
                    assertThat(millis).as("ms from listening to knowing the worker (heartbeat period "
                            + WorkerServer.HEARTBEAT_PERIOD_MILLIS + " ms)").isLessThan(1_000);
                } finally {
                    ch.shutdownNow();
                }
            }
        }
    }
}
