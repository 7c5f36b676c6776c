package io.cleave.core.measure;

import io.cleave.core.time.ManualClock;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The edge's prober (ping, then a bandwidth probe when the duty cycle allows) run in virtual time
 * against an emulated uplink: no sockets, no sleeping, deterministic. What {@code LinkProber} does
 * over gRPC, with the same {@link LinkEstimator} and {@link ProbeSizer} fed the same sender-side
 * timings.
 */
public final class ProbeSimulation {
    /** An uplink: when {@code bytes} handed over at {@code nowNanos} have been delivered (the experiments' {@code Shaper}). */
    @FunctionalInterface
    public interface Uplink {
        long deliver(long nowNanos, int bytes);
    }

    /** Header bytes of a ping (an empty Probe stream). */
    static final int PING_BYTES = 64;

    private final Uplink up;
    private final long oneWayNanos;
    private final long periodNanos;
    private final ManualClock clock;
    private final LinkEstimator est;
    private final ProbeSizer sizer;
    private boolean warm;
    private long nextProbeAt;
    private long nextTick;
    private int probes;
    private long probeBytes;

    public ProbeSimulation(Uplink up, long oneWayNanos, long periodNanos, ManualClock clock, LinkEstimator est, ProbeSizer sizer) {
        this.up = up;
        this.oneWayNanos = oneWayNanos;
        this.periodNanos = periodNanos;
        this.clock = clock;
        this.est = est;
        this.sizer = sizer;
        this.nextTick = clock.nanoTime();
    }

    /** Runs the prober until virtual time {@code untilNanos}. */
    public void runUntil(long untilNanos) {
        while (nextTick < untilNanos) {
            advanceTo(nextTick);
            long t0 = clock.nanoTime();
            advanceTo(up.deliver(t0, PING_BYTES) + 2 * oneWayNanos);
            if (warm) {
                est.recordRtt(clock.nanoTime() - t0);
            }
            warm = true;
            if (clock.nanoTime() >= nextProbeAt) {
                int bytes = sizer.nextBytes(est);
                long p0 = clock.nanoTime();
                advanceTo(up.deliver(p0, bytes + PING_BYTES) + 2 * oneWayNanos);
                long elapsed = clock.nanoTime() - p0;
                est.recordDelivery(bytes, elapsed);
                nextProbeAt = clock.nanoTime() + sizer.pauseAfterNanos(elapsed, est);
                probes++;
                probeBytes += bytes;
            }
            nextTick = Math.max(nextTick + periodNanos, clock.nanoTime());
        }
        advanceTo(untilNanos);
    }

    public int probes() {
        return probes;
    }

    public long probeBytes() {
        return probeBytes;
    }

    private void advanceTo(long t) {
        long d = t - clock.nanoTime();
        if (d > 0) {
            clock.advance(d, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * A link that delivers in millisecond slots, as a Mahimahi trace does: {@code bytesPerMs[i]} bytes
     * can leave in millisecond i (looping); unused capacity is lost.
     */
    public static Uplink slots(long[] bytesPerMs) {
        return new Uplink() {
            private long ms;
            private long used;

            @Override
            public long deliver(long now, int bytes) {
                long nowMs = Math.floorDiv(now, 1_000_000L);
                if (nowMs > ms) {
                    ms = nowMs;
                    used = 0;
                }
                long left = bytes;
                while (true) {
                    long cap = bytesPerMs[(int) Math.floorMod(ms, (long) bytesPerMs.length)];
                    if (cap - used >= left) {
                        used += left;
                        return ms * 1_000_000L + used * 1_000_000L / Math.max(1, cap);
                    }
                    left -= Math.max(0, cap - used);
                    ms++;
                    used = 0;
                }
            }
        };
    }

    /**
     * A bursty cellular-like schedule of 1500-byte delivery opportunities: bursts of 1 to 7 packets
     * in one millisecond, separated by exponential gaps whose mean gives {@code meanBytesPerSecond}.
     */
    public static long[] burstySlots(double meanBytesPerSecond, int seconds, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] ms = new long[seconds * 1000];
        double meanGapMs = 4 * 1500 / meanBytesPerSecond * 1000;
        double t = 0;
        while (true) {
            t += -Math.log(1 - r.nextDouble()) * meanGapMs;
            if (t >= ms.length) {
                return ms;
            }
            ms[(int) t] += 1500L * r.nextInt(1, 8);
        }
    }

    /** True mean rate of {@code bytesPerMs} over [fromMs, toMs), bytes/s. */
    public static double meanRate(long[] bytesPerMs, long fromMs, long toMs) {
        long b = 0;
        for (long m = fromMs; m < toMs; m++) {
            b += bytesPerMs[(int) Math.floorMod(m, (long) bytesPerMs.length)];
        }
        return b * 1000.0 / (toMs - fromMs);
    }
}
