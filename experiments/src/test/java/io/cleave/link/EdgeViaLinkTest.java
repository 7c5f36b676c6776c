package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.Outcome;
import io.cleave.proto.v1.Encoding;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An edge whose channels use a link in CONNECT mode reaches a real worker through it, shaped. */
class EdgeViaLinkTest {
    @Test
    void edgeOffloadsThroughAConnectLink() throws Exception {
        WorkerConfig wc = WorkerConfig.builder(TestPacks.packDir()).shutdownGraceMillis(1000).build();
        try (WorkerServer worker = WorkerServer.start(wc); LinkProxy link = new LinkProxy("127.0.0.1", 0, null)) {
            link.delay(java.time.Duration.ofMillis(15));
            Plan cloudOnly = new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0);
            EdgeConfig ec = EdgeConfig.builder(TestPacks.packDir()).kMax(4).workers(List.of("127.0.0.1:" + worker.port())).plan(cloudOnly)
                    .concurrency(2).shutdownGraceMillis(1000).policy(PolicyRegistry.FIXED).via("127.0.0.1:" + link.port()).build();
            try (EdgeServer edge = EdgeServer.start(ec, null, false)) {
                // the request channel and the prober's own channel both went through the link (two sockets per tunnel)
                assertThat(link.openChannels()).isEqualTo(4);
                Outcome o = edge.agent().classify("via", new byte[784], TimeUnit.SECONDS.toNanos(2)).get(5, TimeUnit.SECONDS);
                assertThat(o.answer().candidate().cloud()).isTrue();
                assertThat(o.answer().latencyNanos()).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(30)); // a round trip of the link
            }
        }
    }

    @Test
    void slowerDeviceClass_takesLongerPerSegment() throws Exception {
        EdgeConfig fast = EdgeConfig.builder(TestPacks.packDir()).kMax(4).concurrency(1).shutdownGraceMillis(1000).policy(PolicyRegistry.FIXED)
                .build();
        EdgeConfig slow = fast.toBuilder().slowdown(4).build();
        assertThat((double) median(slow)).isGreaterThan(2.5 * median(fast));
    }

    private static long median(EdgeConfig cfg) throws Exception {
        try (EdgeServer edge = EdgeServer.start(cfg, null, false)) {
            edge.agent().warmUp(20);
            long[] t = new long[31];
            for (int i = 0; i < t.length; i++) {
                t[i] = edge.agent().classify("s" + i, new byte[784], TimeUnit.SECONDS.toNanos(2)).get(5, TimeUnit.SECONDS).answer()
                        .latencyNanos();
            }
            java.util.Arrays.sort(t);
            return t[t.length / 2];
        }
    }
}
