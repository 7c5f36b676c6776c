package io.cleave.edge.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policies;
import io.cleave.core.plan.Policy;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.ManualClock;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The embedded planner on a manual clock: local until the link is measured, and bounded exploration when its information is stale. */
class AdaptivePlannerTest {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    static final int K_MAX = 2;
    static final Plan CLOUD_FALLBACK = new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0);

    /** Measurements of a 2-block device (2 ms per segment) and a fast worker (0.1 ms per segment). */
    static EdgeMeasurements measurements(ManualClock clock) {
        ModelPack pack = TestPacks.pack();
        EdgeMeasurements m = new EdgeMeasurements(pack, K_MAX, clock, 0.9);
        int segments = pack.blockCount() + 1 + pack.exitCount();
        for (int s = 0; s < segments; s++) {
            m.recordEdge(s, 2 * MS);
            m.setCloudProfile(s, 0.1 * MS);
        }
        return m;
    }

    static Policy cleave() {
        return Policies.cleave(PackStats.of(TestPacks.pack()), 2.0);
    }

    @Test
    void beforeTheLinkIsMeasured_everyRequestStaysLocal() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = measurements(clock);
        for (Policy p : List.of(cleave(), Policies.cloudOnly(PackStats.of(TestPacks.pack())))) {
            AdaptivePlanner planner = new AdaptivePlanner(p, m, CLOUD_FALLBACK, d -> { });
            assertThat(planner.plan(100 * MS).offload()).isFalse();
            m.link().recordRtt(5 * MS); // a round trip alone is not a measured link
            assertThat(planner.plan(100 * MS).offload()).isFalse();
        }
        // nothing measured at all (not even the device): still local, not the configured offloading plan
        EdgeMeasurements empty = new EdgeMeasurements(TestPacks.pack(), K_MAX, clock, 0.9);
        assertThat(new AdaptivePlanner(cleave(), empty, CLOUD_FALLBACK, d -> { }).plan(100 * MS).offload()).isFalse();
    }

    @Test
    void onceMeasuredFast_theLinkIsUsed() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = measurements(clock);
        AdaptivePlanner planner = new AdaptivePlanner(cleave(), m, CLOUD_FALLBACK, d -> { });
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(2 * MS);
        }
        m.link().recordDelivery(250_000, 12 * MS); // 25 MB/s
        assertThat(planner.plan(100 * MS).offload()).isTrue();
    }

    @Test
    void staleAndLocal_exploresAtMostOncePerWindow_keepingTheLocalRace() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = measurements(clock);
        long window = m.link().windowNanos();
        AdaptivePlanner planner = new AdaptivePlanner(cleave(), m, CLOUD_FALLBACK, d -> { });
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(2 * MS);
        }
        m.link().recordDelivery(10, 100 * MS); // a collapsed link: 100 B/s
        assertThat(planner.plan(100 * MS).offload()).isFalse();
        // no evidence for a while (probes failing): one request per window tries the cloud
        List<Decision> decisions = new ArrayList<>();
        for (int i = 0; i < 100; i++) { // 10 s, a request every 100 ms
            clock.advance(100, TimeUnit.MILLISECONDS);
            decisions.add(planner.decide(100 * MS));
        }
        List<Decision> explored = decisions.stream().filter(d -> d.plan().offload()).toList();
        assertThat(explored).isNotEmpty();
        assertThat(explored.size()).isLessThanOrEqualTo((int) (TimeUnit.SECONDS.toNanos(10) / window) + 1);
        for (Decision d : explored) {
            assertThat(d.policy()).endsWith("+explore");
            assertThat(d.plan().localBlocks()).isEqualTo(K_MAX); // the local exits still race
            assertThat(d.expectedCloud()).isFalse(); // and are what it counts on
        }
    }

    @Test
    void freshEvidenceOfASlowLink_orAnEdgeOnlyPolicy_neverExplores() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = measurements(clock);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(2 * MS);
        }
        AdaptivePlanner planner = new AdaptivePlanner(cleave(), m, CLOUD_FALLBACK, d -> { });
        AdaptivePlanner edgeOnly = new AdaptivePlanner(Policies.edgeOnly(PackStats.of(TestPacks.pack()), 2.0), m, CLOUD_FALLBACK, d -> { });
        for (int i = 0; i < 100; i++) {
            if (i % 5 == 0) {
                m.link().recordDelivery(10, 100 * MS); // probes keep saying 100 B/s
            }
            clock.advance(100, TimeUnit.MILLISECONDS);
            assertThat(planner.plan(100 * MS).offload()).isFalse();
            assertThat(edgeOnly.plan(100 * MS).offload()).isFalse();
        }
    }
}
