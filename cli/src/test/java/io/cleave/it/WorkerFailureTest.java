package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.data.Dataset;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.Outcome;
import io.cleave.core.plan.Plan;
import io.cleave.link.LinkProxy;
import io.cleave.proto.v1.Encoding;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * When the worker dies, the link is cut, or the worker stalls, every request is still answered
 * within its deadline + 5 ms, from a local exit (judged by {@link DeadlineJudge}).
 */
class WorkerFailureTest {
    static final long DEADLINE_MS = 40;
    // no early local answers: without the cloud, answers can only come from local exits at the deadline or when local is done
    static final Plan PLAN = new Plan(true, 2, Encoding.FP16, 2.0, 4);

    record Sent(long startedNanos, boolean afterFailure, Outcome outcome, Throwable error, long endedNanos) implements DeadlineJudge.Timed {}

    /** Streams requests, triggers the failure after {@code before} answers, sends {@code after} more. */
    static List<Sent> run(String target, int before, int after, Runnable failure) throws Exception {
        Dataset ds = TestPacks.testSet();
        List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean failed = new AtomicBoolean();
        Semaphore inFlight = new Semaphore(4);
        List<CompletableFuture<Outcome>> all = new ArrayList<>();
        try (EdgeHarness edge = new EdgeHarness(4, target, PLAN, 4)) {
            // warm-up through the same link and worker (fresh JVMs compile for a while); not asserted
            for (int i = 0; i < 50; i++) {
                edge.agent.classify("w" + i, ds.image(i), TimeUnit.SECONDS.toNanos(1)).get(5, TimeUnit.SECONDS);
            }
            for (int i = 0; i < before + after; i++) {
                if (i == before) {
                    inFlight.acquire(2); // let two stay in flight while the failure hits
                    failure.run();
                    failed.set(true);
                    inFlight.release(2);
                }
                inFlight.acquire();
                boolean afterFailure = failed.get();
                long start = System.nanoTime();
                CompletableFuture<Outcome> f = edge.agent.classify("r" + i, ds.image(i % ds.size()),
                        TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS));
                // wait on the callback's future, so that every record is in before the checks
                all.add(f.whenComplete((o, err) -> {
                    sent.add(new Sent(start, afterFailure, o, err, System.nanoTime()));
                    inFlight.release();
                }));
            }
            try {
                CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                // a request ended with an error: each is recorded with its time and judged by assertAllAnsweredInTime
            } catch (java.util.concurrent.TimeoutException e) {
                // a request never answered breaks the promise outright: show where every thread was
                long open = all.stream().filter(f -> !f.isDone()).count();
                StringBuilder dump = new StringBuilder(open + " of " + all.size() + " requests unanswered after 60 s\n");
                Thread.getAllStackTraces().forEach((t, stack) -> {
                    dump.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
                    for (StackTraceElement el : stack) {
                        dump.append("    at ").append(el).append('\n');
                    }
                });
                throw new AssertionError(dump.toString(), e);
            }
        }
        return sent;
    }

    static void assertAllAnsweredInTime(List<Sent> sent, int expected) {
        assertThat(sent).hasSize(expected);
        DeadlineJudge.assertAnsweredInTime("WorkerFailureTest", sent, DEADLINE_MS);
        List<Sent> afterwards = sent.stream().filter(s -> s.afterFailure() && s.outcome() != null).toList();
        assertThat(afterwards).isNotEmpty();
        assertThat(afterwards).allSatisfy(s -> assertThat(s.outcome().answer().candidate().cloud()).isFalse());
        assertThat(sent.stream().filter(s -> !s.afterFailure() && s.outcome() != null && s.outcome().answer().candidate().cloud()).count())
                .as("answers from the cloud before the failure").isGreaterThan(0);
    }

    @Test
    void killNineOfTheWorkerMidRun_everyRequestAnsweredByDeadlineFromALocalExit() throws Exception {
        CleaveProcess worker = CleaveProcess.start();
        try {
            List<Sent> sent = run(worker.target(), 150, 150, () -> {
                try {
                    worker.kill9();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertAllAnsweredInTime(sent, 300);
        } finally {
            worker.close();
        }
    }

    @Test
    void cutLinkMidStream_everyRequestAnsweredByDeadlineFromALocalExit() throws Exception {
        try (CleaveProcess worker = CleaveProcess.start();
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", worker.port()))) {
            AtomicBoolean cutting = new AtomicBoolean(true);
            // keep the link down: cut now and every time the edge reconnects
            Thread cutter = new Thread(() -> {
                while (cutting.get()) {
                    link.cut();
                    java.util.concurrent.locks.LockSupport.parkNanos(500_000);
                }
            });
            // the first cut before the failure counts as done: a request sent after it must not reach the worker
            List<Sent> sent = run("127.0.0.1:" + link.port(), 150, 100, () -> {
                link.cut();
                cutter.start();
            });
            cutting.set(false);
            cutter.join();
            assertAllAnsweredInTime(sent, 250);
        }
    }

    @Test
    void stalledLink_everyRequestAnsweredByDeadlineFromALocalExit() throws Exception {
        try (CleaveProcess worker = CleaveProcess.start();
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", worker.port()))) {
            List<Sent> sent = run("127.0.0.1:" + link.port(), 150, 60, () -> link.stall(true));
            assertAllAnsweredInTime(sent, 210);
            assertThat(sent.stream().filter(s -> s.afterFailure() && s.outcome() != null).map(s -> s.outcome().answer().reason()))
                    .contains("deadline");
        }
    }

    @Test
    void frozenCleaveProcess_everyRequestAnsweredByDeadlineFromALocalExit() throws Exception {
        try (CleaveProcess worker = CleaveProcess.start()) {
            List<Sent> sent = run(worker.target(), 150, 60, () -> {
                try {
                    worker.freeze(true);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertAllAnsweredInTime(sent, 210);
        }
    }
}
