package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cleave.core.data.Dataset;
import io.cleave.core.plan.Plan;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.Outcome;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The half-sent-frames attack on a real worker process: a foreign client opens hundreds of streams
 * and sends each most of a 1 MB message, never the rest. The worker's memory grows with them;
 * good requests are served meanwhile; streams past the worker's open-call bound are refused
 * (before any held stream could idle out); every attacking stream is closed once idle, and the worker's resident memory comes back
 * near where it started.
 */
class HalfSentFramesTest {
    static final int DECLARED = 1_000_000; // under the worker's 1 MiB message limit
    static final int SENT = 990_000;
    static final int IDLE_MS = 15_000;
    static final int MAX_OPEN_CALLS = 400;
    static final String INFER = "/" + InferenceWorkerGrpc.SERVICE_NAME + "/Infer";

    static long rssBytes(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    /** Sends {@code n} requests with a generous deadline; returns how many the worker answered. */
    static long servedFromCloud(EdgeHarness edge, int n, int offset) throws Exception {
        Dataset ds = TestPacks.testSet();
        List<Outcome> outs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            outs.add(edge.agent.classify("g" + (offset + i), ds.image((offset + i) % ds.size()), TimeUnit.MILLISECONDS.toNanos(500))
                    .get(10, TimeUnit.SECONDS));
        }
        return outs.stream().filter(o -> o.answer().candidate().cloud()).count();
    }

    static String mb(long bytes) {
        return String.format("%.0f MB", bytes / 1e6);
    }

    @Test
    void halfSentFrames_areClosedWhenIdle_goodRequestsServedThroughout_andMemoryComesBack() throws Exception {
        try (CleaveProcess worker = CleaveProcess.start("--stream-idle-ms", "" + IDLE_MS, "--max-open-calls", "" + MAX_OPEN_CALLS);
                EdgeHarness edge = new EdgeHarness(4, worker.target(), new Plan(true, 2, Encoding.FP16, 2.0, 4), 2)) {
            ManagedChannel probe = NettyChannelBuilder.forAddress("127.0.0.1", worker.port()).usePlaintext().build();
            try {
                assertThat(servedFromCloud(edge, 100, 0)).as("cloud answers before the attack").isGreaterThan(95);
                Thread.sleep(1000);
                long before = rssBytes(worker.pid());

                try (HalfSentFrames attack = new HalfSentFrames(worker.port())) {
                    long attackedAt = System.nanoTime();
                    List<Integer> held = attack.open(INFER, 300, DECLARED, SENT);
                    Thread.sleep(300);
                    long peak = rssBytes(worker.pid());
                    long servedDuring = servedFromCloud(edge, 50, 100);

                    // past the bound: refused, not left open; looked for until just before the first held stream could idle out
                    List<Integer> past = attack.open(INFER, 150, DECLARED, 0);
                    long refusedBy = attackedAt + TimeUnit.MILLISECONDS.toNanos(IDLE_MS - 1000);
                    while (attack.ended(past) < 50 && System.nanoTime() < refusedBy) {
                        Thread.sleep(20);
                    }
                    long refused = attack.ended(past);
                    long heldEnded = attack.ended(held);
                    StatusRuntimeException busy = catchThrowableOfType(() -> InferenceWorkerGrpc.newBlockingStub(probe)
                            .withDeadlineAfter(5, TimeUnit.SECONDS).describe(DescribeRequest.getDefaultInstance()), StatusRuntimeException.class);

                    long closedBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IDLE_MS + 10_000);
                    while (attack.ended() < 450 && System.nanoTime() < closedBy) {
                        Thread.sleep(50);
                    }
                    int closed = attack.ended();
                    long closedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - attackedAt);
                    Thread.sleep(2000);
                    long after = rssBytes(worker.pid());
                    long servedAfter = servedFromCloud(edge, 50, 150);
                    System.out.printf("HalfSentFramesTest: worker RSS %s before, %s with 300 half-sent 1 MB messages, %s after they were"
                            + " closed as idle; %d of 150 streams past the bound refused before any idled out; %d of 450 closed %d ms after the attack began; cloud answers %d/50 during,"
                            + " %d/50 after%n", mb(before), mb(peak), mb(after), refused, closed, closedAfterMs, servedDuring, servedAfter);

                    assertThat(peak - before).as("memory the attack made the worker hold (it must hold some, or this test shows nothing)")
                            .isGreaterThan(100_000_000L);
                    assertThat(servedDuring).as("cloud answers while the attack holds its streams").isGreaterThan(45);
                    assertThat(heldEnded).as("held streams ended before they could idle out").isZero();
                    assertThat(refused).as("streams past the open-call bound, refused").isGreaterThanOrEqualTo(50);
                    assertThat(busy).isNotNull();
                    assertThat(busy.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(busy.getStatus().getDescription()).contains(MAX_OPEN_CALLS + " calls open");
                    assertThat(closed).as("attacking streams ended by the worker").isEqualTo(450);
                    assertThat(attack.goaway()).as("the connection itself was not torn down").isFalse();
                    assertThat(after - before).as("RSS after the streams closed, against %s at the peak", mb(peak - before))
                            .isLessThan((peak - before) / 4);
                    assertThat(servedAfter).as("cloud answers after the attack").isGreaterThan(45);
                    assertThat(worker.log()).contains("stream closed as idle").contains("calls open, its limit");
                }
            } finally {
                probe.shutdownNow();
            }
        }
    }
}
