package io.cleave.cli;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.edge.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What became of the soak's requests, counted as each ends, in exactly one outcome: answered by its
 * deadline (the project's 5 ms of slack included) or late; refused with a precise status
 * (RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED from the edge's admission and overload rule) by its
 * deadline or late; failed with any other error; cancelled by the client; or lost, with no end
 * {@link #LOST_AFTER_NANOS} past its deadline. Fixed-size: a long soak does not grow the heap it measures.
 */
final class SoakTally {
    /** An answer this much past its deadline still counts as on time (the rule DeadlineJudge applies). */
    static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** A request with no end this long past its deadline is lost. */
    static final long LOST_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int EXAMPLES = 5;

    /** Where a request ended. */
    enum Result { ON_TIME, LATE, REFUSED, REFUSED_LATE, FAILED, CANCELLED, LOST }

    private final long deadlineNanos;
    private final List<String> plans;
    private final LongAdder sent = new LongAdder();
    private final LongAdder[] results = adders(Result.values().length);
    private final LongAdder exhausted = new LongAdder();
    private final LongAdder overloaded = new LongAdder();
    private final LongAdder fromCloud = new LongAdder();
    private final LongAdder cancelAttempts = new LongAdder();
    private final LongAdder[] answersPerPlan;
    private final LongAdder[] cloudPerPlan;
    private final LatencyHistogram latency;
    private final List<String> examples = new ArrayList<>();
    private final AtomicLong cloudSince = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong cloudBackAt = new AtomicLong();

    /** @param plans the plans' labels, in the order {@link #answered}'s {@code plan} indexes them */
    SoakTally(long deadlineNanos, List<String> plans) {
        this.deadlineNanos = deadlineNanos;
        this.plans = List.copyOf(plans);
        this.answersPerPlan = adders(plans.size());
        this.cloudPerPlan = adders(plans.size());
        this.latency = new LatencyHistogram(deadlineNanos + LOST_AFTER_NANOS);
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void sent() {
        sent.increment();
    }

    /** An answer to a request sent at {@code startNanos}, under plan number {@code plan} (-1: not one of the rotation's). */
    void answered(Outcome o, int plan, long startNanos, long endNanos) {
        long latencyNanos = endNanos - startNanos;
        results[(latencyNanos <= deadlineNanos + SLACK_NANOS ? Result.ON_TIME : Result.LATE).ordinal()].increment();
        latency.add(latencyNanos);
        boolean cloud = o.answer().candidate().cloud();
        if (plan >= 0) {
            answersPerPlan[plan].increment();
            if (cloud) {
                cloudPerPlan[plan].increment();
            }
        }
        if (cloud) {
            fromCloud.increment();
            if (startNanos >= cloudSince.get()) {
                cloudBackAt.compareAndSet(0, endNanos);
            }
        }
    }

    /** An error {@code latencyNanos} after sending; returns whether it was a refusal. */
    boolean failed(Throwable error, long latencyNanos) {
        Throwable cause = error instanceof CompletionException || error instanceof ExecutionException ? error.getCause() : error;
        ErrorCode code = cause instanceof CleaveException ce ? ce.code() : null;
        if (code == ErrorCode.RESOURCE_EXHAUSTED || code == ErrorCode.DEADLINE_EXCEEDED) {
            (code == ErrorCode.RESOURCE_EXHAUSTED ? exhausted : overloaded).increment();
            results[(latencyNanos <= deadlineNanos + SLACK_NANOS ? Result.REFUSED : Result.REFUSED_LATE).ordinal()].increment();
            return true;
        }
        results[Result.FAILED.ordinal()].increment();
        example("failed: " + cause);
        return false;
    }

    /** The client tried to cancel: {@link #cancelled} follows, or the request had ended first and counts as it ended. */
    void cancelAttempted() {
        cancelAttempts.increment();
    }

    long cancelAttempts() {
        return cancelAttempts.sum();
    }

    void cancelled() {
        results[Result.CANCELLED.ordinal()].increment();
    }

    void lost(String requestId, String detail) {
        results[Result.LOST.ordinal()].increment();
        example("lost: " + requestId + " (" + detail + ")");
    }

    private void example(String what) {
        synchronized (examples) {
            if (examples.size() < EXAMPLES) {
                examples.add(what);
            }
        }
    }

    /** The first few failed and lost requests, for the report. */
    List<String> examples() {
        synchronized (examples) {
            return List.copyOf(examples);
        }
    }

    /**
     * From now on, notes the first cloud answer to a request sent at or after {@code nanoTime} (see {@link #cloudBackAt}); an
     * answer to one sent before may carry a cloud exit that arrived before then.
     */
    void watchCloudReturn(long nanoTime) {
        cloudBackAt.set(0);
        cloudSince.set(nanoTime);
    }

    /** When the first cloud answer since {@link #watchCloudReturn} ended; 0: none yet. */
    long cloudBackAt() {
        return cloudBackAt.get();
    }

    List<String> plans() {
        return plans;
    }

    long answers(int plan) {
        return answersPerPlan[plan].sum();
    }

    long cloudAnswers(int plan) {
        return cloudPerPlan[plan].sum();
    }

    long refusedExhausted() {
        return exhausted.sum();
    }

    long refusedOverloaded() {
        return overloaded.sum();
    }

    /** The {@code p}-th percentile of answered requests' latency in ms (to the histogram's resolution); NaN without answers. */
    double latencyMillis(double p) {
        return latency.percentile(p) / 1e6;
    }

    Snapshot snapshot() {
        long[] r = new long[results.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = results[i].sum();
        }
        return new Snapshot(sent.sum(), r, fromCloud.sum());
    }

    /** The counts at one moment; {@link #minus} gives an interval's. */
    record Snapshot(long sent, long[] results, long fromCloud) {
        long get(Result r) {
            return results[r.ordinal()];
        }

        long ended() {
            long n = 0;
            for (long v : results) {
                n += v;
            }
            return n;
        }

        long answered() {
            return get(Result.ON_TIME) + get(Result.LATE);
        }

        long refused() {
            return get(Result.REFUSED) + get(Result.REFUSED_LATE);
        }

        Snapshot minus(Snapshot earlier) {
            long[] r = new long[results.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = results[i] - earlier.results[i];
            }
            return new Snapshot(sent - earlier.sent, r, fromCloud - earlier.fromCloud);
        }
    }

    /** Latencies in fixed buckets of {@link #BUCKET_NANOS} up to a bound (beyond it, the last bucket). */
    static final class LatencyHistogram {
        static final long BUCKET_NANOS = 50_000;
        private final AtomicLongArray counts;

        LatencyHistogram(long maxNanos) {
            counts = new AtomicLongArray((int) (maxNanos / BUCKET_NANOS) + 1);
        }

        void add(long nanos) {
            counts.incrementAndGet((int) Math.min(counts.length() - 1, Math.max(0, nanos) / BUCKET_NANOS));
        }

        /** Nearest rank, as {@link io.cleave.core.measure.Percentiles}; a bucket reads as its upper edge. */
        double percentile(double p) {
            long n = 0;
            for (int i = 0; i < counts.length(); i++) {
                n += counts.get(i);
            }
            if (n == 0) {
                return Double.NaN;
            }
            long rank = Math.max(1, (long) Math.ceil(p / 100 * n));
            long seen = 0;
            for (int i = 0; i < counts.length(); i++) {
                seen += counts.get(i);
                if (seen >= rank) {
                    return (double) (i + 1) * BUCKET_NANOS;
                }
            }
            return (double) counts.length() * BUCKET_NANOS;
        }
    }
}
