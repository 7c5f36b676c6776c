package io.cleave.link;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a link adds on top of its bandwidth: one-way propagation delay, packet loss (recovered by
 * TCP after {@code lossRecoveryMs}) and periodic outages. All zero: a clean link.
 *
 * @param delayMs one-way delay, each direction
 * @param loss per-packet loss probability, each direction
 * @param lossRecoveryMs how late a lost packet arrives (0: two round trips, at least 10 ms, as a TCP loss probe would)
 * @param outageEveryS an outage starts every this many seconds (0: none)
 * @param outageForS and lasts this long
 */
public record LinkConditions(double delayMs, double loss, double lossRecoveryMs, double outageEveryS, double outageForS) {
    public static final LinkConditions CLEAN = new LinkConditions(0, 0, 0, 0, 0);

    public LinkConditions {
        if (delayMs < 0 || lossRecoveryMs < 0 || outageEveryS < 0 || outageForS < 0) {
            throw new IllegalArgumentException("link delay, loss recovery and outage times must be >= 0");
        }
        if (!(loss >= 0 && loss <= 1)) {
            throw new IllegalArgumentException("loss must be a probability in [0, 1], got " + loss);
        }
        if (outageEveryS > 0 && !(outageForS > 0 && outageForS < outageEveryS)) {
            throw new IllegalArgumentException("an outage must last more than 0 s and less than its period (" + outageEveryS + " s), got "
                    + outageForS + " s");
        }
    }

    /** Applies these conditions and the two directions' shapers (null: unshaped) to {@code link}, outages counted from {@code startNanos}. */
    public void apply(LinkProxy link, Shaper up, Shaper down, long startNanos) {
        link.shapeUplink(shaper(up, startNanos));
        link.shapeDownlink(shaper(down, startNanos));
        link.delay(Duration.ofNanos(delayNanos()));
        link.loss(loss, Duration.ofNanos((long) (effectiveRecoveryMs() * 1e6)));
    }

    /** One direction's shaper (null: unshaped) with these conditions' outages, counted from {@code startNanos}, on top. */
    public Shaper shaper(Shaper base, long startNanos) {
        if (outageEveryS <= 0) {
            return base;
        }
        // an unshaped direction still goes dark in an outage: a rate too high to matter
        return Shaper.withOutages(base != null ? base : Shaper.rate(1e12), startNanos, (long) (outageEveryS * 1e9), (long) (outageForS * 1e9));
    }

    /** The one-way delay each direction adds, nanoseconds. */
    public long delayNanos() {
        return (long) (delayMs * 1e6);
    }

    /** The loss recovery time in use. */
    public double effectiveRecoveryMs() {
        return lossRecoveryMs > 0 ? lossRecoveryMs : Math.max(10, 4 * delayMs);
    }

    /** For reports: what is added, or "no added delay, loss or outages". */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (delayMs > 0) {
            parts.add(String.format(java.util.Locale.ROOT, "%.1f ms one-way delay", delayMs));
        }
        if (loss > 0) {
            parts.add(String.format(java.util.Locale.ROOT, "%.2f%% packet loss (recovered after %.0f ms)", 100 * loss, effectiveRecoveryMs()));
        }
        if (outageEveryS > 0) {
            parts.add(String.format(java.util.Locale.ROOT, "%.1f s outage every %.1f s", outageForS, outageEveryS));
        }
        return parts.isEmpty() ? "no added delay, loss or outages" : String.join(", ", parts);
    }
}
