package io.cleave.cli;

import io.cleave.core.data.Dataset;
import io.cleave.edge.EdgeAgent;
import io.cleave.experiment.Progress;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** Streams test images through an edge agent with bounded concurrency and collects a summary. */
final class TestSetRunner {
    private TestSetRunner() {}

    static TestSetSummary run(EdgeAgent agent, Dataset ds, int n, double deadlineMs, int concurrency) throws InterruptedException {
        TestSetSummary summary = new TestSetSummary();
        Semaphore inFlight = new Semaphore(concurrency);
        long budget = (long) (deadlineMs * 1e6);
        try (Progress bar = Progress.bar("images", n)) {
            for (int i = 0; i < n; i++) {
                inFlight.acquire();
                int label = ds.labels()[i];
                try {
                    agent.classify("img-" + i, ds.image(i), budget).whenComplete((o, err) -> {
                        if (err != null) {
                            summary.error(err);
                        } else {
                            summary.add(o, label);
                        }
                        bar.step();
                        inFlight.release();
                    });
                } catch (RuntimeException e) {
                    summary.error(e);
                    bar.step();
                    inFlight.release();
                }
            }
            inFlight.tryAcquire(concurrency, 60, TimeUnit.SECONDS);
        }
        return summary;
    }
}
