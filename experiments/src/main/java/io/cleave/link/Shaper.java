package io.cleave.link;

/** When bytes handed to a link now are delivered; one per link direction, shared by its connections. */
public interface Shaper {
    /** Nanosecond time (same clock as {@code nowNanos}) at which {@code bytes} handed over at {@code nowNanos} have been delivered. */
    long deliver(long nowNanos, int bytes);

    /** A fixed rate. */
    static Shaper rate(double bytesPerSecond) {
        return new Shaper() {
            private long freeAt;

            @Override
            public synchronized long deliver(long now, int bytes) {
                freeAt = Math.max(now, freeAt) + (long) (bytes * 1e9 / bytesPerSecond);
                return freeAt;
            }
        };
    }

    /**
     * Replays a trace from {@code startNanos}: bytes go out in the trace's delivery opportunities, in
     * order, each millisecond's capacity used at most once.
     */
    static Shaper trace(Trace trace, long startNanos) {
        return new Shaper() {
            private long ms; // the millisecond slot the link is working on
            private long usedInSlot; // bytes of that slot already taken

            @Override
            public synchronized long deliver(long now, int bytes) {
                long nowMs = Math.floorDiv(now - startNanos, 1_000_000L);
                if (nowMs > ms) {
                    ms = nowMs;
                    usedInSlot = 0;
                }
                long left = bytes;
                long guard = ms + 3600_000L; // an hour of silence means the trace is broken
                while (true) {
                    long room = trace.bytesAt(ms) - usedInSlot;
                    if (room >= left) {
                        usedInSlot += left;
                        // delivered within this millisecond, pro rata
                        long cap = Math.max(1, trace.bytesAt(ms));
                        return startNanos + ms * 1_000_000L + usedInSlot * 1_000_000L / cap;
                    }
                    left -= Math.max(0, room);
                    ms++;
                    usedInSlot = 0;
                    if (ms > guard) {
                        throw new IllegalStateException("trace " + trace.name() + " delivers nothing for an hour");
                    }
                }
            }
        };
    }

    /**
     * Periodic outages on top of {@code base}: the link is up for {@code everyNanos - forNanos}, then
     * delivers nothing for {@code forNanos}, from {@code startNanos} on. {@code base} runs on the link's
     * up-time (its clock starts at 0 and stops during outages), so a replayed trace resumes where it
     * was cut off and bytes queued in an outage leave at the link's rate once it is over.
     */
    static Shaper withOutages(Shaper base, long startNanos, long everyNanos, long forNanos) {
        if (forNanos <= 0 || forNanos >= everyNanos) {
            throw new IllegalArgumentException("an outage must be shorter than its period, got " + forNanos + " ns every " + everyNanos + " ns");
        }
        long upNanos = everyNanos - forNanos;
        return new Shaper() {
            @Override
            public synchronized long deliver(long now, int bytes) {
                long rel = Math.max(0, now - startNanos);
                long upTime = (rel / everyNanos) * upNanos + Math.min(rel % everyNanos, upNanos);
                long doneUp = base.deliver(upTime, bytes);
                long k = doneUp / upNanos;
                long r = doneUp % upNanos;
                return startNanos + k * everyNanos + r;
            }
        };
    }
}
