package io.cleave.cli;

import io.cleave.edge.EdgeAgent;
import io.cleave.edge.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Closed-loop clients of an edge agent in this JVM: each sends a request, waits for its end (at most
 * until it counts as lost), records it in the current {@link SoakTally}, and sends the next. A share of
 * requests is cancelled by its client shortly after sending. A refused client waits
 * {@link #REFUSED_PAUSE_NANOS} before its next request, as a device app would, rather than spinning on
 * the edge's admission.
 */
final class SoakLoad implements AutoCloseable {
    static final long REFUSED_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final EdgeAgent agent;
    private final RotatingPlanner planner;
    private final List<byte[]> images;
    private final long deadlineNanos;
    private final double cancelShare;
    private final long cancelWithinNanos;
    private final AtomicLong ids = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile SoakTally tally;
    private volatile int clients;
    private volatile boolean running = true;

    /**
     * @param cancelShare the share of requests their client cancels, each at a uniformly random time within
     *     {@code cancelWithinNanos} of sending
     */
    SoakLoad(EdgeAgent agent, RotatingPlanner planner, List<byte[]> images, long deadlineNanos, double cancelShare, long cancelWithinNanos,
            SoakTally tally) {
        this.agent = agent;
        this.planner = planner;
        this.images = List.copyOf(images);
        this.deadlineNanos = deadlineNanos;
        this.cancelShare = cancelShare;
        this.cancelWithinNanos = cancelWithinNanos;
        this.tally = tally;
    }

    /**
     * Runs {@code n} clients from now on. More start at once; fewer: those beyond {@code n} stop after their
     * request in flight. Once lowered, it is not raised again.
     */
    synchronized void clients(int n) {
        if (n > clients && threads.size() > clients) {
            throw new IllegalStateException("clients are not raised again after lowering them");
        }
        clients = n;
        while (threads.size() < n) {
            int index = threads.size();
            Thread t = new Thread(() -> client(index), "soak-client-" + index);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Requests sent from now on are counted in {@code t} (those in flight end in the tally they started in). */
    void countIn(SoakTally t) {
        tally = t;
    }

    private void client(int index) {
        SplittableRandom random = new SplittableRandom(index);
        while (running && index < clients) {
            SoakTally t = tally;
            long n = ids.incrementAndGet();
            String id = "soak-" + n;
            boolean cancel = random.nextDouble() < cancelShare;
            long cancelAfter = cancel ? random.nextLong(cancelWithinNanos + 1) : 0;
            long start = System.nanoTime();
            t.sent();
            CompletableFuture<Outcome> request;
            try {
                request = agent.classify(id, images.get((int) (n % images.size())), deadlineNanos);
            } catch (RuntimeException e) {
                if (t.failed(e, System.nanoTime() - start)) {
                    LockSupport.parkNanos(REFUSED_PAUSE_NANOS);
                }
                continue;
            }
            // when it ended, taken where it ended: the client thread's own wake-up is not the edge's latency
            CompletableFuture<Long> ended = request.handle((o, e) -> System.nanoTime());
            try {
                if (cancel && !request.isDone()) {
                    waitQuietly(request, cancelAfter);
                    t.cancelAttempted();
                    request.cancel(false); // false when it ended first: then it counts as it ended
                }
                long end = ended.get(start + deadlineNanos + SoakTally.LOST_AFTER_NANOS - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (request.isCancelled()) {
                    t.cancelled();
                } else if (request.isCompletedExceptionally()) {
                    if (t.failed(failure(request), end - start)) {
                        LockSupport.parkNanos(REFUSED_PAUSE_NANOS);
                    }
                } else {
                    Outcome o = request.join();
                    t.answered(o, planner.indexOf(o.plan()), start, end);
                }
            } catch (TimeoutException e) {
                t.lost(id, "sent " + (System.nanoTime() - start) / 1_000_000 + " ms before; request.isDone()=" + request.isDone());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                throw new IllegalStateException("the end-time stage cannot fail", e);
            }
        }
    }

    private static void waitQuietly(CompletableFuture<Outcome> request, long nanos) throws InterruptedException {
        try {
            request.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException | CancellationException e) {
            // ended or not: the caller looks at the future itself
        }
    }

    private static Throwable failure(CompletableFuture<Outcome> request) {
        try {
            request.join();
            throw new IllegalStateException("completed normally");
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause();
        }
    }

    /** Stops the clients and waits for their requests in flight to end or count as lost. */
    void stop() throws InterruptedException {
        running = false;
        long until = System.nanoTime() + deadlineNanos + SoakTally.LOST_AFTER_NANOS + TimeUnit.SECONDS.toNanos(5);
        List<Thread> all;
        synchronized (this) {
            all = List.copyOf(threads);
        }
        for (Thread t : all) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
        }
    }

    /** Stops the clients after their requests in flight, without waiting (a soak that failed midway). */
    @Override
    public void close() {
        running = false;
    }
}
