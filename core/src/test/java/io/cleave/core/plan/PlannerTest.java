package io.cleave.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cleave.proto.v1.Encoding;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Cleave's planner on fixed profiles: deterministic, and moving the right way as conditions change. */
class PlannerTest {
    static final long MS = 1_000_000;
    // 8 blocks, exits after 2, 4, 6, 8; 50x64 tokens; 784-byte input
    static final PackStats PACK = new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.80, 0.86, 0.89, 0.90}, 50, 64, 784)
            .withEncodingAccuracy(2, Encoding.INT8, new double[] {0.80, 0.855, 0.886, 0.897})
            .withEncodingAccuracy(2, Encoding.FP16, new double[] {0.80, 0.86, 0.89, 0.90});

    /** A slow device (1 ms per block) holding 4 blocks, a fast cloud, a 1 MB/s link with 5 ms RTT. */
    static Costs costs() {
        double[] edgeBlock = {0, 1 * MS, 1 * MS, 1 * MS, 1 * MS};
        double[] cloudBlock = new double[9];
        Arrays.fill(cloudBlock, 1, 9, 0.1 * MS);
        return new Costs(0.3 * MS, edgeBlock, new double[] {1 * MS, 1 * MS, 1 * MS, 1 * MS}, 0.05 * MS, cloudBlock,
                new double[] {0.1 * MS, 0.1 * MS, 0.1 * MS, 0.1 * MS}, 0, 1e6, 5 * MS);
    }

    static final Policy CLEAVE = Policies.cleave(PACK, 2.0);

    @Test
    void decisions_areDeterministic() {
        assertThat(CLEAVE.decide(40 * MS, costs())).isEqualTo(CLEAVE.decide(40 * MS, costs()));
    }

    @Test
    void goodLink_sendsTheInput_andExpectsTheFinalExitFromTheCloud() {
        Decision d = CLEAVE.decide(40 * MS, costs());
        assertThat(d.plan().offload()).isTrue();
        assertThat(d.plan().split()).isZero(); // 784 bytes beat any token tensor at equal accuracy
        assertThat(d.expectedExit()).isEqualTo(3);
        assertThat(d.expectedCloud()).isTrue();
    }

    @Test
    void expectedAccuracy_isTheOneOfTheExitItPlannedFor() {
        for (double bw : new double[] {1e3, 1e4, 1e5, 1e6, 1e8}) {
            Decision d = CLEAVE.decide(30 * MS, costs().withLink(bw, 5 * MS));
            assertThat(d.expectedAccuracy())
                    .isEqualTo(PACK.accuracy(d.expectedExit(), d.plan().split(), d.plan().encoding(), d.expectedCloud()));
            assertThat(d.predictedNanos()).isLessThanOrEqualTo(30 * MS);
        }
    }

    @Test
    void fallingBandwidth_neverIncreasesBytesSent_andEndsOnTheEdge() {
        long prevBytes = Long.MAX_VALUE;
        double prevAcc = 1;
        for (double bw : new double[] {1e8, 1e6, 1e5, 3e4, 1e4, 1e3}) {
            Decision d = CLEAVE.decide(30 * MS, costs().withLink(bw, 5 * MS));
            long bytes = d.plan().offload() ? PACK.bytes(d.plan().split(), d.plan().encoding()) : 0;
            assertThat(bytes).as("bytes at %.0f B/s", bw).isLessThanOrEqualTo(prevBytes);
            assertThat(d.expectedAccuracy()).isLessThanOrEqualTo(prevAcc);
            prevBytes = bytes;
            prevAcc = d.expectedAccuracy();
        }
        Decision slow = CLEAVE.decide(30 * MS, costs().withLink(1e3, 5 * MS));
        assertThat(slow.expectedCloud()).isFalse();
        assertThat(slow.expectedExit()).isEqualTo(1); // deepest local exit: 0.3 + 4 blocks + 2 exits = 6.3 ms
    }

    @Test
    void longRtt_keepsTheAnswerLocal() {
        Decision d = CLEAVE.decide(40 * MS, costs().withLink(1e6, 60 * MS));
        assertThat(d.expectedCloud()).isFalse();
        assertThat(d.expectedExit()).isEqualTo(1);
    }

    @Test
    void tighterDeadline_neverPlansADeeperExit() {
        int prev = Integer.MAX_VALUE;
        for (long d = 60; d >= 2; d -= 2) {
            Decision dec = CLEAVE.decide(d * MS, costs());
            assertThat(dec.expectedExit()).as("deadline %d ms", d).isLessThanOrEqualTo(prev);
            prev = dec.expectedExit();
        }
    }

    @Test
    void aCloudExitThatArrivesInTimeForSomeRoundTrips_isWeighedByThatChance() {
        // round trips: 8 of 20 at 10 ms, 12 at 30 ms (median 30 ms). At a 20 ms deadline (cloud exits planned against 19 ms)
        // the input's final exit needs about 2 ms plus the round trip: in time for the 10 ms ones only
        double[] q = new double[20];
        Arrays.fill(q, 0, 8, 10 * MS);
        Arrays.fill(q, 8, 20, 30 * MS);
        Costs point = costs().withLink(1e6, 30 * MS);
        Costs spread = new Costs(point.edgeStem(), point.edgeBlock(), point.edgeExit(), point.cloudStem(), point.cloudBlock(),
                point.cloudExit(), point.queue(), point.bandwidth(), point.rtt(), q);
        assertThat(spread.rttAtMost(10 * MS)).isEqualTo(0.4);
        assertThat(spread.rttAtMost(29 * MS)).isEqualTo(0.4);
        assertThat(point.rttAtMost(29 * MS)).isZero();
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(PACK), 0.1, 1_000_000);
        Plan input = new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 4);
        Decision sure = ev.evaluate("x", input, 20 * MS, point);
        Decision chance = ev.evaluate("x", input, 20 * MS, spread);
        // both predict the local block-4 exit (the median round trip is too long); only the second counts the 40% of requests
        // in which the final exit replaces it
        assertThat(sure.expectedExit()).isEqualTo(1);
        assertThat(chance.expectedExit()).isEqualTo(1);
        assertThat(sure.expectedAccuracy()).isCloseTo(0.86, within(1e-9));
        assertThat(chance.expectedAccuracy()).isCloseTo(0.6 * 0.86 + 0.4 * 0.90, within(1e-9));
        // the chance is worth offloading for (the local exits race it, so a late result costs no deadline); the value alone is not
        assertThat(CLEAVE.decide(20 * MS, point).plan().offload()).isFalse();
        assertThat(CLEAVE.decide(20 * MS, spread).plan().offload()).isTrue();
        // a distribution that is the value again plans exactly as the value does
        double[] same = new double[20];
        Arrays.fill(same, 30 * MS);
        assertThat(CLEAVE.decide(20 * MS, point.withQueue(0)).plan()).isEqualTo(CLEAVE.decide(20 * MS, new Costs(point.edgeStem(),
                point.edgeBlock(), point.edgeExit(), point.cloudStem(), point.cloudBlock(), point.cloudExit(), 0, point.bandwidth(),
                point.rtt(), same)).plan());
    }

    @Test
    void cloudLoad_movesTheSplitDeeper_toSaveCloudCompute() {
        // a loaded worker: each block costs 3 ms per request; sending the input repeats blocks 1-4 in the cloud
        double[] loaded = new double[9];
        Arrays.fill(loaded, 1, 9, 3 * MS);
        Costs c = new Costs(0.3 * MS, new double[] {0, 1 * MS, 1 * MS, 1 * MS, 1 * MS}, new double[] {1 * MS, 1 * MS, 1 * MS, 1 * MS},
                0.05 * MS, loaded, new double[] {0.1 * MS, 0.1 * MS, 0.1 * MS, 0.1 * MS}, 0, 1e7, 2 * MS);
        Decision idle = CLEAVE.decide(23_500_000, costs().withLink(1e7, 2 * MS));
        // cloud exits planned against 22.5 ms (the deadline less the fixed 1 ms margin): the input needs 26.5 ms (all 8 blocks
        // in the cloud), fp16 tokens after block 2 23.2 ms, fp32 tokens after block 4 20.8 ms (int8/fp16 at split 4 were never
        // measured, so they are not offered)
        Decision busy = CLEAVE.decide(23_500_000, c);
        assertThat(idle.plan().split()).isZero();
        assertThat(busy.expectedCloud()).isTrue();
        assertThat(busy.plan().split()).isEqualTo(4);
        assertThat(busy.plan().encoding()).isEqualTo(Encoding.FP32);
        assertThat(busy.expectedExit()).isEqualTo(3);
        assertThat(busy.predictedNanos()).isLessThanOrEqualTo(22_500_000);
    }

    @Test
    void queueingDelay_isPlannedFor() {
        Decision d = CLEAVE.decide(30 * MS, costs().withQueue(40 * MS));
        assertThat(d.expectedCloud()).isFalse();
        assertThat(d.breakdown()).containsKey("edge");
    }

    @Test
    void splitNeverExceedsTheBlocksTheDeviceHolds() {
        for (int k = 0; k <= 4; k++) {
            Costs c = costs().withKMax(k);
            for (double bw : new double[] {1e3, 1e5, 1e7}) {
                Decision d = CLEAVE.decide(30 * MS, c.withLink(bw, 5 * MS));
                assertThat(d.plan().split()).isLessThanOrEqualTo(k);
            }
        }
        // a device holding no block must offload the input to get any exit in time
        Decision none = CLEAVE.decide(30 * MS, costs().withKMax(0));
        assertThat(none.plan().offload()).isTrue();
        assertThat(none.plan().split()).isZero();
    }

    @Test
    void accuracyDifferencesWithinValidationNoise_areTies_thatGoToFewerBytes() {
        // exit 2 is 0.2 pp "better" than the final exit on validation: noise, not a reason to send 16x the bytes
        PackStats noisy = new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.80, 0.86, 0.892, 0.890}, 50, 64, 784);
        // 2 ms cloud blocks at 1 MB/s: the input reaches exit 3 in 19.2 ms, fp32 tokens (12.8 kB) only exit 2 (26.3 ms)
        double[] slow = new double[9];
        Arrays.fill(slow, 1, 9, 2 * MS);
        Costs c = new Costs(0.3 * MS, new double[] {0, 1 * MS, 1 * MS, 1 * MS, 1 * MS}, new double[] {1 * MS, 1 * MS, 1 * MS, 1 * MS},
                0.05 * MS, slow, new double[] {0.1 * MS, 0.1 * MS, 0.1 * MS, 0.1 * MS}, 0, 1e6, 2 * MS);
        Decision d = Policies.cleave(noisy, 2.0).decide(30 * MS, c);
        assertThat(d.plan().split()).isZero();
        assertThat(d.expectedExit()).isEqualTo(3);
    }

    /** The committed pack's validation tables for its two device exits: {threshold, stop rate, accuracy when stopped}. */
    static PackStats withTables() {
        return new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.848, 0.891, 0.900, 0.910}, 50, 64, 784)
                .withThresholds(0, new double[][] {{0.9, 0.579, 0.9765}, {0.95, 0.464, 0.9905}, {0.99, 0.226, 0.9982}})
                .withThresholds(1, new double[][] {{0.9, 0.705, 0.9804}, {0.95, 0.625, 0.9914}, {0.99, 0.414, 0.9985}});
    }

    @Test
    void aConfidentStop_isNotChosen_whenItCostsAccuracyForNoByteSaved() {
        Costs c = costs().withKMax(4);
        Decision d = Policies.cleave(withTables(), 2.0).decide(40 * MS, c);
        // a stop at 0.99 would cost 0.226 x 0.0018 + 0.414 x 0.0015 = 0.1 pp (within the tolerance) and send as many bytes:
        // only an earlier answer, worth nothing at the deadline, so the planner keeps waiting for the cloud's exit
        assertThat(d.plan().threshold()).as(d.toString()).isGreaterThan(1.0);
        assertThat(d.expectedAccuracy()).as(d.toString()).isCloseTo(0.910, within(1e-9));
        assertThat(d.expectedExit()).isEqualTo(3);
        assertThat(d.expectedCloud()).isTrue();
        // the evaluator still prices a stop as before: the 0.99 plan's expected accuracy carries its bounded cost
        Plan stop = new Plan(d.plan().offload(), d.plan().split(), d.plan().encoding(), 0.99, d.plan().localBlocks());
        assertThat(new PlanEvaluator(new LatencyModel(withTables()), 0.1, 1_000_000).evaluate("x", stop, 40 * MS, c).expectedAccuracy())
                .isCloseTo(0.910 - 0.226 * 0.0018 - 0.414 * 0.0015, within(1e-9));
    }

    @Test
    void thresholdFixedByTheCaller_isKept() {
        Decision d = Policies.cleave(withTables(), 0.9).decide(40 * MS, costs());
        assertThat(d.plan().threshold()).isEqualTo(0.9);
    }

    @Test
    void oracle_isNeverWorseThanCleave_onTheSameLink() {
        for (double bw : new double[] {1e3, 3e4, 1e5, 1e6}) {
            for (long d = 5; d <= 60; d += 5) {
                Costs c = costs().withLink(bw, 5 * MS);
                assertThat(Policies.oracle(PACK, 2.0).decide(d * MS, c).expectedAccuracy())
                        .isGreaterThanOrEqualTo(CLEAVE.decide(d * MS, c).expectedAccuracy());
            }
        }
    }

    /** PACK plus a measured JPEG input: 300 bytes on average, 0.2 ms to encode and decode, 0.1 pp off the final exit. */
    static PackStats withJpeg() {
        return new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.80, 0.86, 0.89, 0.90}, 50, 64, 784)
                .withEncodingAccuracy(2, Encoding.INT8, new double[] {0.80, 0.855, 0.886, 0.897})
                .withEncodingAccuracy(2, Encoding.FP16, new double[] {0.80, 0.86, 0.89, 0.90})
                .withEncodingAccuracy(0, Encoding.JPEG, new double[] {0.80, 0.86, 0.888, 0.899})
                .withJpeg(300, 0.2 * MS);
    }

    @Test
    void jpegInput_isChosen_whereOnlyItsBytesCrossInTime_andNeverWhenUnmeasured() {
        Costs slow = costs().withLink(30e3, 5 * MS); // raw input: 26 ms on the wire; JPEG: 10 ms
        Decision withJpeg = Policies.cleave(withJpeg(), 2.0).decide(25 * MS, slow);
        assertThat(withJpeg.plan().split()).isZero();
        assertThat(withJpeg.plan().encoding()).isEqualTo(Encoding.JPEG);
        assertThat(withJpeg.expectedCloud()).isTrue();
        assertThat(withJpeg.expectedAccuracy()).isEqualTo(0.899);
        assertThat(withJpeg.breakdown()).containsEntry("codec", (long) (0.2 * MS));
        // the same link without a measured JPEG cost: JPEG is never offered, the device answers locally
        Decision without = CLEAVE.decide(25 * MS, slow);
        assertThat(without.plan().encoding()).isNotEqualTo(Encoding.JPEG);
        assertThat(without.expectedCloud()).isFalse();
        assertThat(withJpeg.expectedAccuracy()).isGreaterThan(without.expectedAccuracy());
        // and its bytes are the measured mean, not the raw size
        assertThat(withJpeg().bytes(0, Encoding.JPEG)).isEqualTo(300);
        assertThat(PACK.bytes(0, Encoding.JPEG)).isEqualTo(784);
        assertThat(PACK.accuracy(3, 0, Encoding.JPEG, true)).isNaN();
    }

    @Test
    void jpegCodecTime_countsAgainstTheDeadline() {
        // a JPEG that takes 30 ms to encode and decode cannot make a 25 ms deadline however fast the link
        PackStats slowCodec = withJpeg().withJpeg(300, 30 * MS);
        Decision d = Policies.cleave(slowCodec, 2.0).decide(25 * MS, costs().withLink(30e3, 5 * MS));
        assertThat(d.plan().encoding()).isNotEqualTo(Encoding.JPEG);
    }

    @Test
    void baselines_behaveAsTheirPapersDescribe() {
        Costs c = costs();
        assertThat(Policies.edgeOnly(PACK, 2.0).decide(40 * MS, c).plan().offload()).isFalse();
        Decision cloud = Policies.cloudOnly(PACK).decide(40 * MS, c);
        assertThat(cloud.plan().split()).isZero();
        assertThat(cloud.plan().encoding()).isEqualTo(Encoding.U8_IMAGE);
        // neurosurgeon: the minimum-latency split for the final exit (here: the input, 784 bytes)
        Decision ns = Policies.neurosurgeon(PACK).decide(40 * MS, c);
        assertThat(ns.plan().split()).isZero();
        assertThat(ns.plan().threshold()).isGreaterThan(1.0);
        // with no usable link estimate every cloud time is unknown: neurosurgeon stays on the device instead of failing
        Decision blind = Policies.neurosurgeon(PACK).decide(40 * MS, c.withLink(Double.NaN, 5 * MS));
        assertThat(blind.plan().offload()).isFalse();
        // edgent trusting a static 10 MB/s while the link gives 10 kB/s: its plan misses, Cleave's does not
        Costs slow = c.withLink(1e4, 5 * MS);
        Decision edgent = Policies.edgent(PACK, 1e7).decide(30 * MS, slow);
        assertThat(edgent.plan().offload()).isTrue();
        assertThat(edgent.expectedCloud()).isFalse(); // evaluated on the real link, its cloud exit cannot arrive
        assertThat(CLEAVE.decide(30 * MS, slow).expectedAccuracy()).isGreaterThanOrEqualTo(edgent.expectedAccuracy());
    }
}
