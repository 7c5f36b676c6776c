package io.cleave.it;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.cloud.GrpcCloudPath;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.edge.local.LocalPipeline;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.edge.plan.FixedPlanner;
import io.cleave.core.plan.Plan;
import java.util.List;

/** An edge agent in the test JVM, wired like EdgeServer, talking real gRPC to a target. */
final class EdgeHarness implements AutoCloseable {
    final SegmentEngine engine;
    final WorkerClient workers;
    final LocalPipeline local;
    final GrpcCloudPath cloud;
    final DeadlineTimer deadlines = DeadlineTimer.dedicated(NanoClock.SYSTEM);
    final EdgeAgent agent;

    EdgeHarness(int kMax, String target, Plan plan, int concurrency) {
        engine = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withMaxBlock(kMax));
        workers = new WorkerClient(target == null ? List.of() : List.of(target));
        try {
            workers.connect(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        local = new LocalPipeline(engine, concurrency, NanoClock.SYSTEM);
        cloud = new GrpcCloudPath(workers, engine.pack(), NanoClock.SYSTEM);
        agent = new EdgeAgent(local, cloud, new FixedPlanner(plan), deadlines, NanoClock.SYSTEM);
        agent.warmUpUntilSettled(java.util.concurrent.TimeUnit.SECONDS.toNanos(20));
    }

    @Override
    public void close() {
        local.close();
        deadlines.close();
        cloud.close();
        workers.close();
        engine.close();
    }
}
