package io.cleave.edge.measure;

import com.google.protobuf.ByteString;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.ProbeReply;
import io.cleave.proto.v1.TensorChunk;
import io.cleave.proto.v1.WorkerDescription;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Light active measurement of a worker link: a tiny Describe call every period gives the RTT
 * (and refreshes the worker's compute profile); when no offload has sampled the uplink for a
 * window, a small Probe stream samples it.
 */
public final class LinkProber implements AutoCloseable {
    static final int PROBE_BYTES = 2 * 1024;
    static final int PROBE_CHUNK = 512;

    private final java.util.function.Supplier<ManagedChannel> channel;
    private final EdgeMeasurements m;
    private final ScheduledFuture<?> task;

    public LinkProber(java.util.function.Supplier<ManagedChannel> channel, EdgeMeasurements m, ScheduledExecutorService timers,
            long periodMillis) {
        this.channel = channel;
        this.m = m;
        this.task = timers.scheduleWithFixedDelay(this::probe, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Never blocks: runs on the edge's timer thread, which also fires deadlines. */
    void probe() {
        ManagedChannel ch = channel.get();
        if (ch == null) {
            return;
        }
        long t0 = System.nanoTime();
        InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                .describe(DescribeRequest.getDefaultInstance(), new StreamObserver<WorkerDescription>() {
                    @Override
                    public void onNext(WorkerDescription d) {
                        long rtt = System.nanoTime() - t0;
                        if (warm) {
                            m.link().recordRtt(rtt);
                        }
                        warm = true; // the first call pays for connection set-up and class loading
                        for (BlockProfile p : d.getProfileList()) {
                            if (p.getBatch() == 1) {
                                m.setCloudProfile(p.getBlock(), p.getMeanUs() * 1e3);
                            }
                        }
                        if (m.link().idle(TimeUnit.SECONDS.toNanos(1))) {
                            probeBandwidth(ch);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        // worker unreachable: nothing measured this round; plans use what is known
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    private volatile boolean warm;

    private void probeBandwidth(ManagedChannel ch) {
        StreamObserver<TensorChunk> req = InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                .probe(new StreamObserver<ProbeReply>() {
                    @Override
                    public void onNext(ProbeReply r) {
                        // the worker timed first chunk to last: the bytes after the first crossed in that time
                        long bytes = r.getBytes() - PROBE_CHUNK;
                        m.link().recordTransfer(bytes, Math.max(r.getReceiveUs() * 1000, EdgeMeasurements.MIN_TRANSFER_NANOS));
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        ByteString chunk = ByteString.copyFrom(new byte[PROBE_CHUNK]);
        for (int i = 0; i < PROBE_BYTES / PROBE_CHUNK; i++) {
            req.onNext(TensorChunk.newBuilder().setData(chunk).build());
        }
        req.onCompleted();
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
