package io.cleave.it;

import static io.cleave.it.CoordinatorFailoverTest.assertAllInTime;
import static io.cleave.it.CoordinatorFailoverTest.awaitAssignment;
import static io.cleave.it.CoordinatorFailoverTest.fromCloud;
import static io.cleave.it.CoordinatorFailoverTest.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.proto.v1.Encoding;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real processes: two coordinator replicas that share nothing, two workers heartbeating to both, an edge that follows
 * either. The replica the edge asks is killed: no request is lost, and the other keeps assigning (a killed worker's
 * edge moves to the survivor). The survivor, stopped gracefully, announces that it is draining: the replica takes it
 * out of assignment within one heartbeat period, not after three missed ones. Runs in the {@code edge-deadlines} JVM, judged by {@link DeadlineJudge}.
 */
class CoordinatorReplicasTest {
    @Test
    void theAskedReplicaDies_noRequestIsLost_andTheOtherKeepsAssigning() throws Exception {
        try (CleaveProcess c1 = CleaveProcess.coordinator("--heartbeat-ms", "300");
                CleaveProcess c2 = CleaveProcess.coordinator("--heartbeat-ms", "300")) {
            String replicas = c1.target() + "," + c2.target();
            try (CleaveProcess w1 = CleaveProcess.start("--coordinator", replicas);
                    CleaveProcess w2 = CleaveProcess.start("--coordinator", replicas)) {
                Plan plan = new Plan(true, 2, Encoding.FP16, 2.0, 4);
                for (CleaveProcess w : List.of(w1, w2)) {
                    new EdgeHarness(4, w.target(), plan, 2).close(); // both serving paths warm: either may be assigned
                }
                EdgeConfig cfg = EdgeConfig.builder(TestPacks.packDir()).kMax(4).plan(plan).concurrency(2).shutdownGraceMillis(1000)
                        .policy(PolicyRegistry.FIXED).coordinator(replicas).build();
                try (EdgeServer edge = EdgeServer.start(cfg, null, false)) {
                    awaitAssignment(edge, null);
                    stream(edge, 100, 1000); // warm-up, not asserted
                    List<DeadlineJudge.Request> first = stream(edge, 100, 0);
                    assertAllInTime("both replicas up", first);
                    assertThat(fromCloud(first)).isGreaterThan(90);

                    c1.kill9(); // the replica the edge asks first
                    List<DeadlineJudge.Request> oneReplica = stream(edge, 100, 100);
                    assertAllInTime("first replica killed", oneReplica);
                    assertThat(fromCloud(oneReplica)).isGreaterThan(90);

                    // the move is the second replica's assignment: the first is dead
                    CoordinatorFailoverTest.killAssignedWorker_andAwaitTheMove(edge, w1, w2, 200, ", one replica left");

                    CleaveProcess survivor = edge.assignment().getWorkerTarget().equals(w1.target()) ? w1 : w2;
                    // the killed worker counts as live until the replica misses its heartbeats (3 x 300 ms), and the edge sees
                    // that at its next ask: wait for it, so that what is timed below is the survivor's drain alone
                    long settle = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
                    while (edge.assignment().getLiveWorkers() != 1 && System.nanoTime() < settle) {
                        Thread.sleep(10);
                    }
                    assertThat(edge.assignment().getLiveWorkers()).isEqualTo(1);
                    long stopped = System.nanoTime();
                    survivor.terminate(); // SIGTERM: the graceful shutdown announces draining first
                    long end = stopped + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
                    while (edge.assignment().getLiveWorkers() != 0 && System.nanoTime() < end) {
                        Thread.sleep(2);
                    }
                    long drainedMillis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
                    System.out.println("CoordinatorReplicasTest: the stopped worker was out of assignment " + drainedMillis + " ms after SIGTERM");
                    assertThat(edge.assignment().getLiveWorkers()).as("live workers after the survivor's SIGTERM").isZero();
                    assertThat(drainedMillis).as("out of assignment within one heartbeat period of SIGTERM (missed heartbeats: three)")
                            .isLessThan(io.cleave.worker.WorkerServer.HEARTBEAT_PERIOD_MILLIS);
                    List<DeadlineJudge.Request> noWorker = stream(edge, 50, 300);
                    assertAllInTime("no worker left", noWorker);
                }
            }
        }
    }
}
