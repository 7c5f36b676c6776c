package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.data.Dataset;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real processes: a coordinator and two workers heartbeating to it; an edge that follows the
 * coordinator's assignment. A killed worker's edge sees its connection fail, reports it, and moves
 * to the other within one heartbeat period (draining by missed heartbeats alone takes three); a killed
 * coordinator loses no request. Every answer by its deadline, judged by {@link DeadlineJudge}; the
 * test runs in the {@code edge-deadlines} JVM (the edge's collector, ZGC).
 */
class CoordinatorFailoverTest {
    static final long DEADLINE_MS = 40;

    static List<DeadlineJudge.Request> stream(EdgeServer edge, int n, int offset) throws Exception {
        Dataset ds = TestPacks.testSet();
        List<DeadlineJudge.Request> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            Outcome outcome = null;
            Throwable error = null;
            try {
                outcome = edge.agent().classify("c" + (offset + i), ds.image((offset + i) % ds.size()),
                        TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS)).get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                error = e; // judged with its time by assertAllInTime
            }
            out.add(new DeadlineJudge.Request(start, outcome, error, System.nanoTime()));
            Thread.sleep(2);
        }
        return out;
    }

    static long fromCloud(List<DeadlineJudge.Request> outs) {
        return outs.stream().filter(r -> r.outcome() != null && r.outcome().answer().candidate().cloud()).count();
    }

    static void assertAllInTime(String phase, List<DeadlineJudge.Request> outs) {
        DeadlineJudge.assertAnsweredInTime("CoordinatorFailoverTest, " + phase, outs, DEADLINE_MS);
    }

    static void awaitAssignment(EdgeServer edge, String target) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            var a = edge.assignment();
            if (a != null && (target == null ? !a.getWorkerTarget().isEmpty() : a.getWorkerTarget().equals(target))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("edge never assigned to " + (target == null ? "a worker" : target) + "; last: " + edge.assignment());
    }

    /**
     * Kills the worker the edge is assigned to and streams through the move to the other: the move within one of the
     * workers' heartbeat periods of the kill, every answer in time (local until the edge moves), then over 90 of 100
     * from the surviving worker. Requests {@code offset}.. and 100 after.
     */
    static void killAssignedWorker_andAwaitTheMove(EdgeServer edge, CleaveProcess w1, CleaveProcess w2, int offset, String when)
            throws Exception {
        String assigned = edge.assignment().getWorkerTarget();
        CleaveProcess victim = assigned.equals(w1.target()) ? w1 : w2;
        CleaveProcess survivor = victim == w1 ? w2 : w1;
        java.util.concurrent.atomic.AtomicLong movedAt = new java.util.concurrent.atomic.AtomicLong();
        Thread watch = new Thread(() -> { // when the edge's assignment changes, to within 2 ms
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                var a = edge.assignment();
                if (a != null && a.getWorkerTarget().equals(survivor.target())) {
                    movedAt.set(System.nanoTime());
                    return;
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "move-watch");
        watch.setDaemon(true);
        watch.start();
        long killed = System.nanoTime();
        victim.kill9();
        List<DeadlineJudge.Request> during = stream(edge, 100, offset); // answered locally until the edge moves
        assertAllInTime("worker killed" + when, during);
        awaitAssignment(edge, survivor.target());
        watch.join(TimeUnit.SECONDS.toMillis(11));
        assertThat(movedAt.get()).as("the watch saw the move").isNotZero();
        long moveMillis = TimeUnit.NANOSECONDS.toMillis(movedAt.get() - killed);
        System.out.println("CoordinatorFailoverTest" + when + ": the edge moved " + moveMillis + " ms after the kill");
        assertThat(moveMillis).as("moved within one heartbeat period (ms after the kill" + when + ")")
                .isLessThan(io.cleave.worker.WorkerServer.HEARTBEAT_PERIOD_MILLIS);
        List<DeadlineJudge.Request> moved = stream(edge, 100, offset + 100);
        assertAllInTime("moved" + when, moved);
        assertThat(fromCloud(moved)).as("answers from the surviving worker" + when).isGreaterThan(90);
    }

    @Test
    void deadWorkerIsDrainedAndTheEdgeMoves_thenTheCoordinatorDiesAndNoRequestIsLost() throws Exception {
        try (CleaveProcess coordinator = CleaveProcess.coordinator("--heartbeat-ms", "300");
                CleaveProcess w1 = CleaveProcess.start("--coordinator", coordinator.target());
                CleaveProcess w2 = CleaveProcess.start("--coordinator", coordinator.target())) {
            Plan plan = new Plan(true, 2, Encoding.FP16, 2.0, 4);
            // warm both workers' serving paths first: the edge stays on the worker it is given, and the other one must serve
            // at once after the kill (a cold worker JVM answered split-2 requests in 10-15 ms of compute, past the deadline)
            for (CleaveProcess w : List.of(w1, w2)) {
                new EdgeHarness(4, w.target(), plan, 2).close(); // warms up until the JIT settles
            }
            EdgeConfig cfg = EdgeConfig.builder(TestPacks.packDir()).kMax(4).plan(plan).concurrency(2).shutdownGraceMillis(1000)
                    .policy(PolicyRegistry.FIXED).coordinator(coordinator.target()).build();
            try (EdgeServer edge = EdgeServer.start(cfg, null, false)) {
                awaitAssignment(edge, null);
                stream(edge, 100, 1000); // warm-up: fresh worker JVMs; not asserted
                List<DeadlineJudge.Request> first = stream(edge, 100, 0);
                assertAllInTime("before the kill", first);
                assertThat(fromCloud(first)).isGreaterThan(90);

                killAssignedWorker_andAwaitTheMove(edge, w1, w2, 100, "");

                coordinator.kill9();
                List<DeadlineJudge.Request> orphaned = stream(edge, 150, 300);
                assertThat(orphaned).hasSize(150);
                assertAllInTime("coordinator killed", orphaned);
                assertThat(fromCloud(orphaned)).as("the edge keeps its last assignment").isGreaterThan(140);
            }
        }
    }
}
