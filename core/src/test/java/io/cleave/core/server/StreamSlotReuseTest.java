package io.cleave.core.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection whose streams all ended, by a client's cancel or by the server's end, gets its stream
 * slots back at once: a new call on the same channel starts and completes within 2 s. Real Netty
 * server built through {@link ServerLimits}, real Netty client channel, loopback.
 */
class StreamSlotReuseTest {
    private static final int LIMIT = ServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION;
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<byte[], byte[]> HOLD = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("test.Slots/Hold")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Slots/Echo")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    /** Held streams, each open until the test ends it. */
    private final ConcurrentLinkedQueue<StreamObserver<byte[]>> held = new ConcurrentLinkedQueue<>();
    private final AtomicInteger holdsStarted = new AtomicInteger();
    private final AtomicInteger holdsCancelled = new AtomicInteger();
    private final AtomicInteger watchesCancelled = new AtomicInteger();
    private final AtomicInteger holdsClosedAtClient = new AtomicInteger();
    private final HealthStatusManager health = new HealthStatusManager();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        ServerServiceDefinition slots = ServerServiceDefinition.builder("test.Slots")
                .addMethod(HOLD, ServerCalls.asyncServerStreamingCall((request, out) -> {
                    ((io.grpc.stub.ServerCallStreamObserver<byte[]>) out).setOnCancelHandler(holdsCancelled::incrementAndGet);
                    held.add(out);
                    holdsStarted.incrementAndGet();
                }))
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, out) -> {
                    out.onNext(request);
                    out.onCompleted();
                })).build();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        io.grpc.ServerInterceptor cancelCounting = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata headers,
                    io.grpc.ServerCallHandler<Q, R> next) {
                return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                    @Override
                    public void onCancel() {
                        watchesCancelled.incrementAndGet();
                        super.onCancel();
                    }
                };
            }
        };
        server = ServerLimits.netty(new InetSocketAddress("127.0.0.1", 0)).addService(slots)
                .addService(io.grpc.ServerInterceptors.intercept(health.getHealthService(), cancelCounting)).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void streamsAtTheLimit_cancelledByTheClient_freeTheirSlots() throws Exception {
        List<ClientCall<byte[], byte[]>> calls = hold(LIMIT);
        awaitHoldsStarted(LIMIT);
        calls.forEach(c -> c.cancel("client gave up", null));
        awaitCount(holdsCancelled, LIMIT);
        assertThat(holdsCancelled.get()).as("server handlers told of the cancellation").isEqualTo(LIMIT);
        assertEchoWithin2s();
    }

    @Test
    void oneStreamPastTheLimit_waitingClientSide_thenAllCancelled_freeTheirSlots() throws Exception {
        List<ClientCall<byte[], byte[]>> calls = hold(LIMIT + 1);
        awaitHoldsStarted(LIMIT);
        Thread.sleep(300); // room for the one past the limit to start, were it allowed
        assertThat(holdsStarted.get()).isEqualTo(LIMIT);
        calls.forEach(c -> c.cancel("client gave up", null));
        awaitCount(holdsCancelled, holdsStarted.get()); // the waiting one may have started before its own cancel
        assertThat(holdsCancelled.get()).isEqualTo(holdsStarted.get());
        assertEchoWithin2s();
    }

    /**
     * Reproduces the stall seen in review of the limits (not a Cleave bug; kept to rerun by hand): with the channel at
     * (or past) the server's limit, cancelling all and at once starting a new call on the same channel leaves that new
     * call in the client's stream buffer until its deadline in most runs (8 of 10 probe runs here past limits of 4, 16
     * and 64; once in 3 runs at the limit of 64). It never reaches the server, whose handlers saw every cancellation.
     * The same new call started once the server has seen the cancellations (the tests above), or 300 ms after them,
     * completes. So the server frees its slots at once; the race is in the client transport (grpc-netty-shaded 1.85.1
     * and its Netty {@code StreamBufferingEncoder}) when a call is created while the cancelled streams' RST_STREAM
     * frames are still unwritten, so the channel still counts them. Our clients avoid it by staying under the limits.
     */
    @org.junit.jupiter.api.Disabled("reproduces a client-transport race at the stream limit; fails in most runs")
    @Test
    void newCallStartedAtOnceAfterCancellingPastTheLimit_canWaitInTheClientUntilItsDeadline() throws Exception {
        List<ClientCall<byte[], byte[]>> calls = hold(LIMIT + 1);
        awaitHoldsStarted(LIMIT);
        Thread.sleep(300); // room for the one past the limit to start, were it allowed
        assertThat(holdsStarted.get()).isEqualTo(LIMIT);
        calls.forEach(c -> c.cancel("client gave up", null));
        assertEchoWithin2s();
    }

    @Test
    void streamsAtTheLimit_endedByTheServer_freeTheirSlots() throws Exception {
        List<ClientCall<byte[], byte[]>> calls = hold(LIMIT);
        awaitHoldsStarted(LIMIT);
        StreamObserver<byte[]> out;
        while ((out = held.poll()) != null) {
            out.onNext(new byte[] {1});
            out.onCompleted();
        }
        awaitCount(holdsClosedAtClient, LIMIT);
        assertThat(holdsClosedAtClient.get()).as("held calls closed at the client").isEqualTo(LIMIT);
        assertEchoWithin2s();
        assertThat(calls).hasSize(LIMIT);
    }

    @Test
    void healthWatchesAtTheLimit_cancelledByTheClient_freeTheirSlots() throws Exception {
        List<io.grpc.Context.CancellableContext> watches = new ArrayList<>();
        CountDownLatch firstUpdates = new CountDownLatch(LIMIT);
        for (int i = 0; i < LIMIT; i++) {
            io.grpc.Context.CancellableContext c = io.grpc.Context.current().withCancellation();
            c.run(() -> HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
                @Override
                public void onNext(HealthCheckResponse r) {
                    firstUpdates.countDown();
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            }));
            watches.add(c);
        }
        assertThat(firstUpdates.await(5, TimeUnit.SECONDS)).as("the first %d watches answered", LIMIT).isTrue();
        watches.forEach(c -> c.cancel(null));
        awaitCount(watchesCancelled, LIMIT);
        assertThat(watchesCancelled.get()).as("Watch handlers told of the cancellation").isEqualTo(LIMIT);
        // a new unary call, on the same channel, from a context that is not cancelled
        long t0 = System.nanoTime();
        assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }

    private List<ClientCall<byte[], byte[]>> hold(int n) {
        List<ClientCall<byte[], byte[]>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ClientCall<byte[], byte[]> call = channel.newCall(HOLD, CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onClose(Status status, Metadata trailers) {
                    holdsClosedAtClient.incrementAndGet();
                }
            }, new Metadata());
            call.sendMessage(new byte[] {0});
            call.halfClose();
            call.request(Integer.MAX_VALUE);
            calls.add(call);
        }
        return calls;
    }

    private void assertEchoWithin2s() throws Exception {
        long t0 = System.nanoTime();
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(channel.newCall(ECHO, CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS)),
                new byte[] {42}, new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        byte[] value;
        try {
            value = answer.get(3, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("the new call did not complete: " + Status.fromThrowable(e.getCause()), e);
        }
        assertThat(value).containsExactly(42);
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }

    private void awaitHoldsStarted(int n) throws InterruptedException {
        awaitCount(holdsStarted, n);
        assertThat(holdsStarted.get()).as("held streams started").isEqualTo(n);
    }

    private static void awaitCount(AtomicInteger count, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (count.get() < n && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }
}
