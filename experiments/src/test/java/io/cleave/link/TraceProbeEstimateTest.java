package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.cleave.core.measure.LinkEstimator;
import io.cleave.core.measure.ProbeSimulation;
import io.cleave.core.measure.ProbeSizer;
import io.cleave.core.time.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The edge's prober and estimator replayed, in virtual time, against the shared real traces through
 * the link emulator's own {@link Shaper}: the estimate tracks the rate the trace delivered over the
 * preceding five seconds. Stated factor: the median reading (every 2 s from 10 s to 120 s) within
 * 1.5x of that rate, on every trace; probes take at most 10% of the bytes the link carried. The old
 * prober read 122.88 Mbps on any link that delivers a 2 KiB probe in one piece: 130x the 3G uplink.
 * Readings during outages (the trace delivering almost nothing for seconds) are the worst ones: the
 * estimate holds its last value while probes stall.
 */
class TraceProbeEstimateTest {
    static final long S = TimeUnit.SECONDS.toNanos(1);
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    static Path traces() {
        Path p = Path.of(System.getProperty("cleave.traces", "../../shared/traces"));
        assumeTrue(Files.isDirectory(p), "shared traces not found at " + p.toAbsolutePath() + " (they ship beside the repository)");
        return p;
    }

    @ParameterizedTest
    @CsvSource({
        "3g/mahimahi/TMobile-UMTS-driving.up, 20",
        "4g-lte/mahimahi/ATT-LTE-driving.up, 20",
        "4g-lte/mahimahi/TMobile-LTE-short.up, 20",
        "4g-lte/mahimahi/Verizon-LTE-short.up, 20",
        "5g/lumos5g/5g_trace_1_driving, 10",
        "broadband/fcc/trace_10322_http---edition.cnn.com, 10",
    })
    void estimateTracksTheTrace(String file, long oneWayMs) throws Exception {
        Trace trace = Trace.load(traces().resolve(file));
        ManualClock clock = new ManualClock();
        LinkEstimator est = new LinkEstimator(clock, 2 * S, LinkEstimator.DEFAULT_RESOLUTION_FLOOR_NANOS);
        Shaper up = Shaper.trace(trace, 0);
        ProbeSimulation sim = new ProbeSimulation(up::deliver, oneWayMs * MS, 250 * MS, clock, est, ProbeSizer.defaults(250 * MS));
        List<Double> factors = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        for (int t = 10; t <= 120; t += 2) {
            sim.runUntil(t * S);
            double truth = trace.mbpsBetween((t - 5) * 1000L, t * 1000L);
            double mbps = est.bandwidth() * 8 / 1e6;
            if (truth > 0) {
                double r = mbps / truth;
                factors.add(Math.max(r, 1 / r));
            }
            log.append(String.format(" %d:%.2f/%.2f", t, mbps, truth));
        }
        Collections.sort(factors);
        System.out.printf("TRACE %s median %.2f p90 %.2f max %.2f probes %d (%.1f%% of bytes)%n%s%n", file, factors.get(factors.size() / 2),
                factors.get(factors.size() * 9 / 10), factors.get(factors.size() - 1), sim.probes(),
                100 * sim.probeBytes() / (trace.mbpsBetween(0, 120_000) * 125_000 * 120), log);
        assertThat(factors.get(factors.size() / 2)).as("median factor on %s", file).isLessThan(1.5);
        assertThat(sim.probeBytes() / (trace.mbpsBetween(0, 120_000) * 125_000 * 120)).isLessThan(0.10);
    }
}
