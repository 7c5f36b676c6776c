package io.cleave.it;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.edge.plan.FixedPlanner;
import io.cleave.core.plan.Plan;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** An edge agent in the test JVM, wired like EdgeServer, talking real gRPC to a target. */
final class EdgeHarness implements AutoCloseable {
    final SegmentEngine engine;
    final WorkerClient workers;
    final ExecutorService compute;
    final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    final EdgeAgent agent;

    EdgeHarness(int kMax, String target, Plan plan, int concurrency) {
        engine = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withMaxBlock(kMax));
        workers = new WorkerClient(target == null ? List.of() : List.of(target));
        try {
            workers.connect(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        compute = Executors.newFixedThreadPool(concurrency);
        agent = new EdgeAgent(engine, new FixedPlanner(plan), workers, compute, timers, NanoClock.SYSTEM);
        agent.warmUp(50);
    }

    @Override
    public void close() {
        compute.shutdownNow();
        timers.shutdownNow();
        workers.close();
        engine.close();
    }
}
