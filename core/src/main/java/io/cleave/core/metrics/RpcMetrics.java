package io.cleave.core.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts every gRPC call a server ends, by service, method and status code, and times it:
 * {@code cleave_rpc_server_calls_total{service, method, code}} and
 * {@code cleave_rpc_server_seconds{service, method}}. Labels are bounded by the proto's methods and
 * gRPC's 17 codes. Install with {@code ServerBuilder.intercept}.
 */
public final class RpcMetrics implements ServerInterceptor {
    private final MeterRegistry registry;

    public RpcMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        MethodDescriptor<Q, R> m = call.getMethodDescriptor();
        String service = m.getServiceName() == null ? "unknown" : m.getServiceName();
        String method = m.getBareMethodName() == null ? "unknown" : m.getBareMethodName();
        long start = System.nanoTime();
        AtomicBoolean ended = new AtomicBoolean();
        ServerCall.Listener<Q> listener = next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (ended.compareAndSet(false, true)) {
                    record(service, method, status.getCode(), start);
                }
                super.close(status, trailers);
            }
        }, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                if (ended.compareAndSet(false, true)) { // the client went away (or its deadline passed) before an answer
                    record(service, method, Status.Code.CANCELLED, start);
                }
                super.onCancel();
            }
        };
    }

    private void record(String service, String method, Status.Code code, long start) {
        Counter.builder("cleave.rpc.server.calls").description("gRPC calls this server ended, by method and status code (CANCELLED: by the client)")
                .tag("service", service).tag("method", method).tag("code", code.name()).register(registry).increment();
        Timer.builder("cleave.rpc.server").description("From a gRPC call's start to its end (a stream: its whole life)")
                .tag("service", service).tag("method", method).serviceLevelObjectives(Metrics.LATENCY_BUCKETS).register(registry)
                .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
}
