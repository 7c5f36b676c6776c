package io.cleave.core.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.HeartbeatReply;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one shutdown sequence, over in-process gRPC with a service whose calls stay in flight until the test ends them. */
class ServerLifecycleTest {
    static final String SERVICE = "cleave.v1.Coordinator";

    /** Assign calls stay in flight until the test answers them; heartbeats are answered at once. */
    static final class HeldService extends CoordinatorGrpc.CoordinatorImplBase {
        final AtomicReference<StreamObserver<Assignment>> held = new AtomicReference<>();
        final CountDownLatch arrived = new CountDownLatch(1);

        @Override
        public void assign(AssignRequest req, StreamObserver<Assignment> out) {
            held.set(out);
            arrived.countDown();
        }

        @Override
        public void heartbeat(WorkerHeartbeat hb, StreamObserver<HeartbeatReply> out) {
            out.onNext(HeartbeatReply.newBuilder().setPeriodMs(1).build());
            out.onCompleted();
        }
    }

    final List<String> events = new CopyOnWriteArrayList<>();
    final HeldService service = new HeldService();
    ManagedChannel channel;

    ServerLifecycle start(Duration grace) throws Exception {
        String name = InProcessServerBuilder.generateName();
        ServerLifecycle life = new ServerLifecycle(SERVICE, grace);
        life.start(InProcessServerBuilder.forName(name).addService(service));
        life.withdrawFirst(() -> events.add("withdraw")).thenRelease(() -> events.add("scheduler")).thenRelease(() -> events.add("engine"));
        channel = InProcessChannelBuilder.forName(name).build();
        return life;
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    @Test
    void close_goesNotServingFirst_refusesNewCalls_andLetsTheCallInFlightFinish_thenReleasesInOrder() throws Exception {
        ServerLifecycle life = start(Duration.ofSeconds(20));
        BlockingQueue<ServingStatus> statuses = new LinkedBlockingQueue<>();
        AtomicReference<ClientCallStreamObserver<HealthCheckRequest>> watch = new AtomicReference<>();
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService(SERVICE).build(),
                new ClientResponseObserver<HealthCheckRequest, HealthCheckResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<HealthCheckRequest> call) {
                        watch.set(call);
                    }

                    @Override
                    public void onNext(HealthCheckResponse r) {
                        statuses.add(r.getStatus());
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        assertThat(statuses.poll(5, TimeUnit.SECONDS)).isEqualTo(ServingStatus.SERVING);
        var inFlight = CoordinatorGrpc.newFutureStub(channel).assign(AssignRequest.newBuilder().setEdgeId("e").build());
        assertThat(service.arrived.await(5, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(life::close);
        assertThat(statuses.poll(5, TimeUnit.SECONDS)).as("health, before anything else").isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(inFlight.isDone()).isFalse();
        watch.get().cancel("seen", null); // a health watcher is itself a call in flight: it would hold the drain to the grace period

        StatusRuntimeException refused = null;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (refused == null && System.nanoTime() < until) {
            try {
                CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS).heartbeat(WorkerHeartbeat.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                refused = e;
            }
        }
        assertThat(refused).as("a new call once shutdown began").isNotNull();
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(closing).as("still draining the call in flight").isNotDone();
        assertThat(events).containsExactly("withdraw");

        service.held.get().onNext(Assignment.newBuilder().setWorkerTarget("127.0.0.1:1").build());
        service.held.get().onCompleted();
        assertThat(inFlight.get(5, TimeUnit.SECONDS).getWorkerTarget()).isEqualTo("127.0.0.1:1");
        long drained = System.nanoTime();
        closing.get(10, TimeUnit.SECONDS);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - drained)).as("close ends with the drain, not the 20 s grace").isLessThan(5);
        assertThat(events).containsExactly("withdraw", "scheduler", "engine");
    }

    @Test
    void theHealthOnlyPort_answersInPlaintext_reportsNotServingThroughTheDrain_andClosesWithTheServer() throws Exception {
        ServerLifecycle life = start(Duration.ofSeconds(20));
        java.net.InetSocketAddress at = life.serveHealth("127.0.0.1", 0);
        ManagedChannel plain = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress(at.getHostString(), at.getPort())
                .usePlaintext().build();
        try {
            java.util.function.Supplier<ServingStatus> check = () -> HealthGrpc.newBlockingStub(plain).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService(SERVICE).build()).getStatus();
            assertThat(check.get()).isEqualTo(ServingStatus.SERVING);
            var inFlight = CoordinatorGrpc.newFutureStub(channel).assign(AssignRequest.newBuilder().setEdgeId("e").build());
            assertThat(service.arrived.await(5, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Void> closing = CompletableFuture.runAsync(life::close);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (check.get() != ServingStatus.NOT_SERVING && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(check.get()).as("the health port while the main server drains").isEqualTo(ServingStatus.NOT_SERVING);
            assertThat(closing).as("still draining the call in flight").isNotDone();

            service.held.get().onNext(Assignment.getDefaultInstance());
            service.held.get().onCompleted();
            inFlight.get(5, TimeUnit.SECONDS);
            closing.get(10, TimeUnit.SECONDS);
            StatusRuntimeException gone = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class, check::get);
            assertThat(gone.getStatus().getCode()).as("the health port after close").isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            plain.shutdownNow();
        }
    }

    @Test
    void aCallStillRunningWhenTheGraceEnds_isCancelled_andTheResourcesAreStillReleased() throws Exception {
        ServerLifecycle life = start(Duration.ofMillis(300));
        var inFlight = CoordinatorGrpc.newFutureStub(channel).assign(AssignRequest.getDefaultInstance());
        assertThat(service.arrived.await(5, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        life.close();
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(tookMs).isBetween(300L, 300 + ServerLifecycle.AFTER_CANCEL.toMillis() + 2_000);
        assertThatThrownBy(() -> inFlight.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(events).containsExactly("withdraw", "scheduler", "engine");
    }

    @Test
    void withoutAServer_closeOnlyReleases_inOrder_once() {
        ServerLifecycle life = new ServerLifecycle(SERVICE, Duration.ofSeconds(1));
        life.thenRelease(() -> events.add("a")).thenRelease(() -> {
            throw new IllegalStateException("a failing release does not stop the others");
        }).thenRelease(() -> events.add("b"));
        life.close();
        life.close();
        assertThat(events).containsExactly("a", "b");
        assertThat(life.port()).isEqualTo(-1);
    }

    @Test
    void reflection_listsTheServices_andDescribesTheirMethods() throws Exception {
        ServerLifecycle life = start(Duration.ofSeconds(1));
        try {
            BlockingQueue<io.grpc.reflection.v1.ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
            StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests = io.grpc.reflection.v1.ServerReflectionGrpc
                    .newStub(channel).serverReflectionInfo(new StreamObserver<>() {
                        @Override
                        public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
                            answers.add(r);
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
            List<String> names = answers.poll(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                    .map(io.grpc.reflection.v1.ServiceResponse::getName).toList();
            assertThat(names).contains(SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection");
            requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setFileContainingSymbol(SERVICE).build());
            var file = com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(
                    answers.poll(10, TimeUnit.SECONDS).getFileDescriptorResponse().getFileDescriptorProto(0));
            assertThat(file.getServiceList()).anySatisfy(s -> assertThat(s.getMethodList()).extracting(m -> m.getName())
                    .contains("Heartbeat", "Assign"));
            requests.onCompleted();
        } finally {
            life.close();
        }
    }
}
