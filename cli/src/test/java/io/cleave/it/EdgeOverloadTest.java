package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cleave.core.data.Dataset;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * An edge agent process flooded with device requests far beyond its cores: every request it
 * accepts is answered by its deadline, and the rest are refused at once with RESOURCE_EXHAUSTED. An accepted
 * request that a stall leaves without an exit at its deadline ends then with DEADLINE_EXCEEDED (and
 * counts against the promise here): its compute would otherwise make the requests behind it late.
 * (Before admission control and urgency-ordered compute, 500 concurrent requests at a 100 ms
 * deadline were all answered, none on time.)
 */
class EdgeOverloadTest {
    static final int DEADLINE_MS = 100;
    static final int BURST = 1000; // pack 1.1.0: a first exit (block 1) is cheap enough that 500 fit into 100 ms here

    record Reply(long clientNanos, ClassifyResponse response, Status status) {}

    static List<Reply> burst(EdgeAgentGrpc.EdgeAgentStub stub, Dataset ds, int n, String prefix) throws InterruptedException {
        ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            long sent = System.nanoTime();
            ClassifyRequest r = ClassifyRequest.newBuilder().setRequestId(prefix + i).setDeadlineMs(DEADLINE_MS)
                    .setImage(ByteString.copyFrom(ds.image(i % ds.size()))).build();
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).classify(r, new StreamObserver<>() {
                @Override
                public void onNext(ClassifyResponse v) {
                    replies.add(new Reply(System.nanoTime() - sent, v, Status.OK));
                }

                @Override
                public void onError(Throwable t) {
                    replies.add(new Reply(System.nanoTime() - sent, null, Status.fromThrowable(t)));
                    done.countDown();
                }

                @Override
                public void onCompleted() {
                    done.countDown();
                }
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).as("every request ends").isTrue();
        return new ArrayList<>(replies);
    }

    @Test
    void aBurstFarBeyondTheCores_everyAcceptedRequestIsOnTime_theRestRefusedAtOnce() throws Exception {
        Dataset ds = TestPacks.testSet();
        try (CleaveProcess edge = CleaveProcess.edge("--k-max", "4", "--concurrency", "2")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentStub stub = EdgeAgentGrpc.newStub(ch);
                burst(stub, ds, 200, "warm"); // JIT and connections; not asserted
                List<Reply> replies = burst(stub, ds, BURST, "r");
                assertThat(replies).hasSize(BURST);
                List<Reply> ok = replies.stream().filter(r -> r.status().isOk()).toList();
                List<Reply> refused = replies.stream().filter(r -> r.status().getCode() == Status.Code.RESOURCE_EXHAUSTED).toList();
                // admitted, but nothing had come by the deadline behind a backlog: an error at the deadline (its work dropped) rather
                // than a late answer whose compute would make the requests queued behind it late too
                List<Reply> shed = replies.stream().filter(r -> r.status().getCode() == Status.Code.DEADLINE_EXCEEDED).toList();
                assertThat(ok.size() + refused.size() + shed.size()).as("no other outcome: " + replies.stream()
                        .filter(r -> !r.status().isOk()).map(r -> r.status().toString()).distinct().toList()).isEqualTo(BURST);
                assertThat(refused).allSatisfy(r -> assertThat(r.status().getDescription()).contains("edge overloaded"));
                assertThat(shed).allSatisfy(r -> assertThat(r.status().getDescription()).contains("edge overloaded"));
                // on time by the edge's own clock: from accepting the request to deciding its answer
                long onTime = ok.stream().filter(r -> r.response().getDeadlineMet()
                        && r.response().getLatencyUs() <= DEADLINE_MS * 1000L).count();
                int accepted = ok.size() + shed.size();
                long[] okMs = ok.stream().mapToLong(r -> r.clientNanos() / 1_000_000).sorted().toArray();
                long[] refusedMs = refused.stream().mapToLong(r -> r.clientNanos() / 1_000_000).sorted().toArray();
                String summary = String.format("%d concurrent requests, %d ms deadline, 2 compute threads: %d accepted, %d of them answered"
                        + " on time (%.1f%%; client-side latency p50 %d ms, p99 %d ms), %d answered late, %d ended with DEADLINE_EXCEEDED;"
                        + " %d refused (client-side p50 %d ms, p99 %d ms)", BURST, DEADLINE_MS, accepted, onTime,
                        100.0 * onTime / Math.max(1, accepted), pct(okMs, 50), pct(okMs, 99), ok.size() - onTime, shed.size(),
                        refused.size(), pct(refusedMs, 50), pct(refusedMs, 99));
                System.out.println("EdgeOverloadTest: " + summary);
                ok.stream().filter(r -> !r.response().getDeadlineMet() || r.response().getLatencyUs() > DEADLINE_MS * 1000L)
                        .forEach(r -> System.out.printf("EdgeOverloadTest: late %s %s %d us%n",
                                r.response().getRequestId(), r.response().getReason(), r.response().getLatencyUs()));
                shed.stream().limit(5).forEach(r -> System.out.println("EdgeOverloadTest: shed " + r.status().getDescription()));
                assertThat(ok.size()).as("requests served under overload").isGreaterThanOrEqualTo(100);
                assertThat(refused).as("a burst beyond capacity is partly refused").isNotEmpty();
                // the promise is every accepted request; on this 2-core machine, shared with the client's burst, a few
                // deadline answers are decided late when the JVM is descheduled or collecting: at most 10%
                assertThat((double) onTime / accepted).as("accepted requests answered on time: " + summary).isGreaterThanOrEqualTo(0.90);
            } finally {
                ch.shutdownNow();
            }
        }
    }

    static long pct(long[] sorted, double q) {
        return sorted.length == 0 ? -1 : (long) Percentiles.of(sorted, q);
    }
}
