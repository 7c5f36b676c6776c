package io.cleave.edge.local;

import io.cleave.core.engine.Tensor;
import io.cleave.edge.race.Candidate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Records what the pipeline reports for one request; optionally holds the compute thread in its first exit. */
public final class Recorder implements LocalPipeline.Listener {
    public final List<Candidate> exits = new CopyOnWriteArrayList<>();
    public final CompletableFuture<RuntimeException> finished = new CompletableFuture<>();
    public final CountDownLatch inExit = new CountDownLatch(1);
    private final CountDownLatch release;

    /** {@code release} non-null: the first exit holds the compute thread until it counts down. */
    public Recorder(CountDownLatch release) {
        this.release = release;
    }

    @Override
    public void tokens(int block, Tensor tokens) {}

    @Override
    public void exit(Candidate c) {
        exits.add(c);
        inExit.countDown();
        if (release != null) {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean answered() {
        return false;
    }

    @Override
    public void finished(RuntimeException failure) {
        finished.complete(failure);
    }
}
