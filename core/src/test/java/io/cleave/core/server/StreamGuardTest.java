package io.cleave.core.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard on a real in-process server: idle streams closed and their handlers told, busy ones left alone, open calls bounded. */
class StreamGuardTest {
    static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    /** Counts the messages of a client stream; answers the count when the client half-closes. */
    static final MethodDescriptor<String, String> UPLOAD = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING).setFullMethodName("test.Guarded/Upload")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    final CompletableFuture<Throwable> handlerSaw = new CompletableFuture<>();
    Server server;
    ManagedChannel channel;

    void start(StreamGuard guard) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        ServerServiceDefinition upload = ServerServiceDefinition.builder("test.Guarded")
                .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(responses -> new StreamObserver<String>() {
                    int messages;

                    @Override
                    public void onNext(String value) {
                        messages++;
                    }

                    @Override
                    public void onError(Throwable t) {
                        handlerSaw.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        responses.onNext(String.valueOf(messages));
                        responses.onCompleted();
                    }
                })).build();
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(upload).addService(health.getHealthService()).intercept(guard).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }

    /** Starts an upload; the returned observer sends; the future holds the answer or the error. */
    StreamObserver<String> upload(CompletableFuture<String> answer) {
        return ClientCalls.asyncClientStreamingCall(channel.newCall(UPLOAD, io.grpc.CallOptions.DEFAULT), new StreamObserver<>() {
            @Override
            public void onNext(String value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                answer.complete(null);
            }
        });
    }

    static Status statusOf(CompletableFuture<?> f) throws InterruptedException {
        try {
            f.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the call succeeded");
        } catch (ExecutionException e) {
            return Status.fromThrowable(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the call was never closed", e);
        }
    }

    /** Calls open once they have settled at {@code n} (a client may read its answer before the server counts the call out). */
    static int awaitOpen(StreamGuard guard, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (guard.open() != n && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        return guard.open();
    }

    @Test
    void aStreamThatStopsSending_isClosedAsIdle_andItsHandlerToldItIsGone() throws Exception {
        start(new StreamGuard(16, Duration.ofMillis(300)));
        CompletableFuture<String> answer = new CompletableFuture<>();
        long started = System.nanoTime();
        upload(answer).onNext("half of something");
        Status s = statusOf(answer);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(s.getDescription()).contains("stream closed as idle").contains("the limit is 300 ms");
        assertThat(tookMs).isBetween(300L, 300L + 2 * TimeUnit.NANOSECONDS.toMillis(StreamGuard.SWEEP_NANOS) + 500);
        assertThat(Status.fromThrowable(handlerSaw.get(5, TimeUnit.SECONDS)).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void aStreamThatKeepsSending_orHasHalfClosed_isNeverIdle() throws Exception {
        StreamGuard guard = new StreamGuard(16, Duration.ofMillis(300));
        start(guard);
        // a server stream the client has half-closed: the server sends, the client waits; nothing to time out
        CompletableFuture<Status> watch = new CompletableFuture<>();
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse value) {}

            @Override
            public void onError(Throwable t) {
                watch.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                watch.complete(Status.OK);
            }
        });
        CompletableFuture<String> answer = new CompletableFuture<>();
        StreamObserver<String> up = upload(answer);
        for (int i = 0; i < 10; i++) { // 1.5 s in all, never 300 ms apart
            up.onNext("part " + i);
            Thread.sleep(150);
        }
        up.onCompleted();
        assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo("10");
        assertThat(watch).as("the half-closed watch, open for 5x the idle limit").isNotDone();
        assertThat(awaitOpen(guard, 1)).as("calls open: the watch").isEqualTo(1);
    }

    @Test
    void callsPastTheBound_areRefusedAsBusy_andASlotFreesWhenACallEnds() throws Exception {
        StreamGuard guard = new StreamGuard(3, Duration.ofSeconds(30));
        start(guard);
        java.util.List<StreamObserver<String>> open = new java.util.ArrayList<>();
        java.util.List<CompletableFuture<String>> answers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<String> a = new CompletableFuture<>();
            StreamObserver<String> up = upload(a);
            up.onNext("held");
            open.add(up);
            answers.add(a);
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (guard.open() < 3 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        CompletableFuture<String> refused = new CompletableFuture<>();
        upload(refused).onNext("one too many");
        Status s = statusOf(refused);
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).contains("3 calls open");

        open.get(0).onCompleted();
        assertThat(answers.get(0).get(5, TimeUnit.SECONDS)).isEqualTo("1");
        assertThat(awaitOpen(guard, 2)).isEqualTo(2);
        CompletableFuture<String> next = new CompletableFuture<>();
        StreamObserver<String> up = upload(next);
        up.onNext("after a slot freed");
        up.onCompleted();
        assertThat(next.get(5, TimeUnit.SECONDS)).isEqualTo("1");
    }
}
