package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.edge.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Judges the edge's promise, every request answered by its deadline, on a machine that is itself
 * late at times. An answer may come 5 ms after its deadline. Later than that, it is excused only
 * when the {@link StallProbe} (a thread that shares nothing with the edge) stalled at least as long
 * as the answer was late while it was due, and never beyond twice the deadline. A request the edge
 * ended with DEADLINE_EXCEEDED for want of any exit behind a backlog ({@code Arbiter.withdraw}) is
 * excused only when the machine stalled for a third of the budget before it ended (a first exit
 * costs a few milliseconds here). The stalls that excuse are at most 1% of the requests in number: a
 * stall excuses every request it caught, since it holds up all that are in flight alike (one 41 ms
 * stall caught three of four concurrent requests in a fresh-clone CI run, each late by less than it).
 */
final class DeadlineJudge {
    /** One request as the test saw it: an outcome or an error, and when it started and ended. */
    interface Timed {
        long startedNanos();

        Outcome outcome();

        Throwable error();

        long endedNanos();
    }

    record Request(long startedNanos, Outcome outcome, Throwable error, long endedNanos) implements Timed {}

    static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** One probe for the test JVM: its record of stalls spans every test that judges. */
    private static final StallProbe MACHINE = new StallProbe();

    private DeadlineJudge() {}

    /** Asserts the promise for {@code requests}, each with {@code deadlineMillis}; prints what it excused. */
    static void assertAnsweredInTime(String what, List<? extends Timed> requests, long deadlineMillis) {
        long deadline = TimeUnit.MILLISECONDS.toNanos(deadlineMillis);
        long bound = deadline + SLACK_NANOS;
        List<String> excused = new ArrayList<>();
        java.util.Set<Long> stallsExcusing = new java.util.HashSet<>(); // each by its start
        assertThat(requests).allSatisfy(r -> {
            if (r.error() != null) {
                Throwable cause = r.error() instanceof CompletionException || r.error() instanceof ExecutionException
                        ? r.error().getCause() : r.error();
                assertThat(cause).isInstanceOfSatisfying(CleaveException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DEADLINE_EXCEEDED);
                    assertThat(e.getMessage()).contains("edge overloaded");
                });
                StallProbe.Stall worst = MACHINE.worstStallWithin(r.startedNanos(), r.endedNanos());
                long stall = worst == null ? 0 : worst.nanos();
                assertThat(stall).as("ended with %s; the machine stalled at most %.1f ms meanwhile", cause.getMessage(), stall / 1e6)
                        .isGreaterThanOrEqualTo(deadline / 3);
                excused.add(String.format("one ended with DEADLINE_EXCEEDED (the machine stalled %.1f ms)", stall / 1e6));
                stallsExcusing.add(worst.fromNanos());
                return;
            }
            assertThat(r.outcome()).isNotNull();
            long latency = r.outcome().answer().latencyNanos();
            if (latency > bound) {
                // from when the timer may fire (a guard of at most a third of the budget) to when the answer was decided
                StallProbe.Stall worst = MACHINE.worstStallWithin(r.startedNanos() + deadline * 2 / 3, r.startedNanos() + latency);
                long stall = worst == null ? 0 : worst.nanos();
                String id = r.outcome().answer().requestId();
                assertThat(stall).as("latency of %s: %.1f ms; the machine stalled at most %.1f ms meanwhile", id, latency / 1e6, stall / 1e6)
                        .isGreaterThanOrEqualTo(latency - bound);
                assertThat(latency).as("latency of %s", id).isLessThanOrEqualTo(2 * deadline);
                excused.add(String.format("%s at %.1f ms (the machine stalled %.1f ms)", id, latency / 1e6, stall / 1e6));
                stallsExcusing.add(worst.fromNanos());
            }
        });
        System.out.println(what + ": " + requests.size() + " requests, " + excused.size() + " late or ended by the deadline, each during a"
                + " machine stall at least as long " + excused + " (" + stallsExcusing.size() + " distinct stalls); stalls over 2 ms seen so far: "
                + MACHINE.count());
        assertThat(stallsExcusing.size()).as("%s: machine stalls excusing answers", what).isLessThanOrEqualTo(Math.max(1, requests.size() / 100));
    }
}
