package io.cleave.edge.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.coordinator.CoordinatorConfig;
import io.cleave.coordinator.CoordinatorServer;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The edge following a real coordinator (in-process): the move, and the new worker's profile it plans on at once. */
class AssignmentFollowerTest {
    static final ModelPack PACK = TestPacks.pack();

    @Test
    void onAMove_theEdgePlansOnTheNewWorkersProfile_untilItsOwnDescribeSupersedesIt() throws Exception {
        int exit = PACK.firstExitAtOrAfter(3);
        int block = PACK.exit(exit).afterBlock();
        String name = InProcessServerBuilder.generateName();
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        EdgeMeasurements m = new EdgeMeasurements(PACK, 2, NanoClock.SYSTEM, 0.9);
        try (CoordinatorServer coordinator = CoordinatorServer.start(CoordinatorConfig.builder().build(), InProcessServerBuilder.forName(name));
                WorkerClient workers = new WorkerClient(List.of("127.0.0.1:1"))) {
            ManagedChannel toCoordinator = InProcessChannelBuilder.forName(name).build();
            // a worker heartbeats its batch-1 profile: the segments from split 2 to the exit after `block`, 1 ms each
            WorkerHeartbeat.Builder hb = WorkerHeartbeat.newBuilder().setWorkerId("w").setTarget("127.0.0.1:2").setModelId(PACK.id());
            for (int seg = 3; seg <= block; seg++) {
                hb.addProfile(BlockProfile.newBuilder().setBlock(seg).setBatch(1).setMeanUs(1000));
                hb.addProfile(BlockProfile.newBuilder().setBlock(seg).setBatch(8).setMeanUs(99_000)); // not batch 1: not planned on
            }
            hb.addProfile(BlockProfile.newBuilder().setBlock(m.segments().exit(exit)).setBatch(1).setMeanUs(1000));
            hb.addProfile(BlockProfile.newBuilder().setBlock(10_000).setBatch(1).setMeanUs(1000)); // no such segment: ignored
            CoordinatorGrpc.newBlockingStub(toCoordinator).heartbeat(hb.build());
            // blocks 3..block and the exit (the first one after the split, so no earlier exit adds to it)
            double expected = (block - 2 + 1) * 1e6;
            assertThat(m.profiledCloudCompute(2, exit)).as("nothing known before the assignment").isZero();

            try (AssignmentFollower follower = new AssignmentFollower(toCoordinator, workers, "edge", PACK.id(), timers, 20, m)) {
                awaitTrue(() -> workers.targets().equals(List.of("127.0.0.1:2")));
                assertThat(m.profiledCloudCompute(2, exit)).as("the new worker's profile, from the assignment").isEqualTo(expected);

                m.setCloudProfile(3, 5e6); // the edge's own Describe of the worker answers
                Thread.sleep(100); // several more assignments to the same worker
                assertThat(follower.last().getWorkerTarget()).isEqualTo("127.0.0.1:2");
                assertThat(m.profiledCloudCompute(2, exit)).as("no reseeding while the edge stays").isEqualTo(expected - 1e6 + 5e6);
            }
        } finally {
            timers.shutdownNow();
        }
    }

    @Test
    void whenItsWorkerDies_theEdgeAsksAtOnceNamingIt_andIsMovedLongBeforeTheWorkerCouldBeDrained() throws Exception {
        String name = InProcessServerBuilder.generateName();
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        io.grpc.Server a = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", 0)).build().start();
        String aTarget = "127.0.0.1:" + a.getPort();
        // heartbeats every minute: only the edge's report can explain a move within seconds
        try (CoordinatorServer coordinator = CoordinatorServer.start(CoordinatorConfig.builder().heartbeatPeriodMillis(60_000).build(),
                InProcessServerBuilder.forName(name));
                WorkerClient workers = new WorkerClient(List.of())) {
            ManagedChannel toCoordinator = InProcessChannelBuilder.forName(name).build();
            var stub = CoordinatorGrpc.newBlockingStub(toCoordinator);
            stub.heartbeat(WorkerHeartbeat.newBuilder().setWorkerId("a").setTarget(aTarget).setModelId(PACK.id()).build());
            stub.heartbeat(WorkerHeartbeat.newBuilder().setWorkerId("b").setTarget("127.0.0.1:2").setModelId(PACK.id()).setQueued(9).build());
            try (AssignmentFollower follower = new AssignmentFollower(toCoordinator, workers, "edge", PACK.id(), timers, 60_000, null)) {
                awaitTrue(() -> workers.targets().equals(List.of(aTarget)));
                assertThat(workers.connect(5_000)).as("connected to a").isEqualTo(1);

                long killed = System.nanoTime();
                a.shutdownNow(); // its connection closes, its port with it: as a crash looks from the edge
                awaitTrue(() -> workers.targets().equals(List.of("127.0.0.1:2")));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed)).as("moved, ms after the kill").isLessThan(2_000);
                assertThat(stub.assign(io.cleave.proto.v1.AssignRequest.newBuilder().setModelId(PACK.id()).build()).getWorkerTarget())
                        .as("a new edge is not sent to the lost worker").isEqualTo("127.0.0.1:2");
            }
        } finally {
            a.shutdownNow();
            timers.shutdownNow();
        }
    }

    static void awaitTrue(BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!c.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(end);
            Thread.sleep(10);
        }
    }
}
