package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The link's queue drains at the pace the link has while it drains, on a made-up clock. */
class BottleneckTest {
    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    record Out(String item, long end) {}

    private static List<Out> advance(Bottleneck<String> q, long now, Shaper s) {
        List<Out> out = new ArrayList<>();
        q.advance(now, s, (item, end) -> out.add(new Out(item, end)));
        return out;
    }

    private static List<String> items(List<Out> out) {
        return out.stream().map(Out::item).toList();
    }

    @Test
    void rateStepUp_drainsTheBacklogAtTheNewRate() {
        Bottleneck<String> q = new Bottleneck<>();
        Shaper slow = Shaper.rate(1000); // 1 kB/s
        for (int i = 0; i < 10; i++) {
            q.add("p" + i, 1000, 0); // 10 s of backlog at the slow rate
        }
        assertThat(q.advance(0, slow, (item, end) -> {})).isEqualTo(S); // the first piece leaves after 1 s
        List<Out> slowPhase = advance(q, 2 * S + S / 2, slow);
        assertThat(slowPhase).containsExactly(new Out("p0", S), new Out("p1", 2 * S));

        Shaper fast = Shaper.rate(1_000_000); // 1 MB/s from 2.5 s
        List<Out> fastPhase = advance(q, 2 * S + S / 2, fast);
        assertThat(fastPhase).isEmpty(); // p2 is half sent; its other 500 bytes take 0.5 ms at the new rate
        List<Out> rest = advance(q, 3 * S, fast);
        assertThat(items(rest)).containsExactly("p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9");
        assertThat(rest.get(0).end()).isEqualTo(2 * S + S / 2 + MS / 2);
        // the whole backlog is gone 7.5 ms after the step, not 7.5 s
        assertThat(rest.get(rest.size() - 1).end()).isEqualTo(2 * S + S / 2 + MS / 2 + 7 * MS);
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.queuedBytes()).isZero();
    }

    @Test
    void rateStepDown_timesTheBacklogAtTheLowerRate() {
        Bottleneck<String> q = new Bottleneck<>();
        Shaper fast = Shaper.rate(1_000_000);
        for (int i = 0; i < 4; i++) {
            q.add("p" + i, 1000, 0);
        }
        assertThat(advance(q, 0, fast)).isEmpty();
        // the link slows down when half of the first piece is out: every byte left goes at the new rate
        Shaper slow = Shaper.rate(1000);
        assertThat(advance(q, MS / 2, slow)).isEmpty();
        List<Out> out = advance(q, 10 * S, slow);
        assertThat(out).containsExactly(new Out("p0", MS / 2 + S / 2), new Out("p1", MS / 2 + 3 * S / 2),
                new Out("p2", MS / 2 + 5 * S / 2), new Out("p3", MS / 2 + 7 * S / 2));
    }

    @Test
    void traceStepUp_drainsTheBacklogAtTheNewTrace() {
        Bottleneck<String> q = new Bottleneck<>();
        Shaper slow = Shaper.trace(Trace.constant("slow", 1000), 0);
        for (int i = 0; i < 5; i++) {
            q.add("p" + i, 1000, 0);
        }
        assertThat(items(advance(q, 2 * S, slow))).containsExactly("p0", "p1");
        Shaper fast = Shaper.trace(Trace.constant("fast", 1_000_000), 2 * S);
        assertThat(advance(q, 2 * S, fast)).isEmpty(); // p2 has just reached the head: it goes at the new trace's pace
        List<Out> out = advance(q, 2 * S + 10 * MS, fast);
        assertThat(items(out)).containsExactly("p2", "p3", "p4");
        assertThat(out.get(2).end()).isEqualTo(2 * S + 3 * MS); // 1000 bytes in each millisecond of the fast trace
    }

    @Test
    void piecesFromSeveralSenders_leaveInArrivalOrder_eachTimedBehindTheLast() {
        Bottleneck<String> q = new Bottleneck<>();
        Shaper s = Shaper.rate(1000);
        q.add("a0", 500, 0);
        q.add("b0", 250, 0);
        q.add("a1", 250, 100 * MS);
        List<Out> out = advance(q, 2 * S, s);
        assertThat(out).containsExactly(new Out("a0", S / 2), new Out("b0", 3 * S / 4), new Out("a1", S));
        // an idle link starts a new piece when it is handed over
        q.add("b1", 100, 5 * S);
        assertThat(advance(q, 6 * S, s)).containsExactly(new Out("b1", 5 * S + S / 10));
    }

    @Test
    void unshaped_sendsAtOnce_andASlowLinkThatIsLiftedFlushesItsBacklog() {
        Bottleneck<String> q = new Bottleneck<>();
        q.add("p0", 4096, 7);
        assertThat(advance(q, 7, null)).containsExactly(new Out("p0", 7));
        q.add("p1", 1000, S);
        q.add("p2", 1000, S);
        assertThat(advance(q, S, Shaper.rate(100))).isEmpty();
        assertThat(q.queuedBytes()).isEqualTo(2000);
        assertThat(advance(q, 2 * S, null)).containsExactly(new Out("p1", 2 * S), new Out("p2", 2 * S));
    }
}
