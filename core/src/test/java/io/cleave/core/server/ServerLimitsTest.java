package io.cleave.core.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The shared Netty limits over real loopback: one connection cannot hold more than its share of streams. */
class ServerLimitsTest {
    @Test
    void oneConnection_getsAtMostItsConcurrentCalls_whileOtherConnectionsAreServed() throws Exception {
        AtomicInteger started = new AtomicInteger();
        ServerInterceptor counting = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                started.incrementAndGet();
                return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) { };
            }
        };
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        Server server = ServerLimits.netty(new InetSocketAddress("127.0.0.1", 0))
                .addService(io.grpc.ServerInterceptors.intercept(health.getHealthService(), counting)).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            int limit = ServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION;
            List<Context.CancellableContext> calls = new ArrayList<>();
            for (int i = 0; i <= limit; i++) { // one more than the limit; each Watch stays open
                Context.CancellableContext c = Context.current().withCancellation();
                c.run(() -> HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new Ignore()));
                calls.add(c);
                awaitStarted(started, 1); // the server's settings are in before the rest are opened
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (started.get() < limit && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            Thread.sleep(300); // room for a 65th to arrive, were it allowed
            assertThat(started.get()).isEqualTo(limit);
            // another client, on its own connection, is served meanwhile
            ManagedChannel other = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
            try {
                assertThat(HealthGrpc.newBlockingStub(other).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                other.shutdownNow();
            }
            calls.forEach(c -> c.cancel(null));
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }

    static void awaitStarted(AtomicInteger started, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (started.get() < n && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }

    static final class Ignore implements StreamObserver<HealthCheckResponse> {
        @Override
        public void onNext(HealthCheckResponse r) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    }
}
