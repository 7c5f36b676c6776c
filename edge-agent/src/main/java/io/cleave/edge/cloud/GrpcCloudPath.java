package io.cleave.edge.cloud;

import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.Plan;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.edge.race.Candidate;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferHeader;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud path over gRPC: encodes the payload, opens the worker stream, turns each checked
 * {@link ExitResult} into a {@link Candidate}, and measures the link and the worker from the
 * first result (or from its absence by the deadline). Encoding and starting a stream run on one
 * uplink thread of its own, so the local compute that produced the tokens goes straight on to its
 * next exit; results arrive on the channel's transport thread.
 */
public final class GrpcCloudPath implements CloudPath, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GrpcCloudPath.class);

    private final WorkerClient workers;
    private final ModelPack pack;
    private final Segments segments;
    private final NanoClock clock;
    private final ResultCheck check;
    private final ExecutorService uplink;
    private final int jpegQuality;
    private volatile EdgeMeasurements measurements;

    public GrpcCloudPath(WorkerClient workers, ModelPack pack, NanoClock clock) {
        this(workers, pack, clock, JpegCodec.DEFAULT_QUALITY);
    }

    /** @param jpegQuality quality (1-100) of the JPEG a split-0 plan in {@link Encoding#JPEG} sends */
    public GrpcCloudPath(WorkerClient workers, ModelPack pack, NanoClock clock, int jpegQuality) {
        JpegCodec.checkQuality(jpegQuality);
        this.jpegQuality = jpegQuality;
        this.workers = workers;
        this.pack = pack;
        this.segments = Segments.of(pack);
        this.clock = clock;
        this.check = new ResultCheck(pack);
        this.uplink = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cleave-edge-uplink");
            t.setDaemon(true);
            return t;
        });
    }

    /** Feeds the link and worker measurements from every offload's first result from now on. */
    public void measureInto(EdgeMeasurements m) {
        this.measurements = m;
    }

    /** Worker results dropped as malformed so far. */
    public long droppedResults() {
        return check.dropped();
    }

    public WorkerClient workers() {
        return workers;
    }

    @Override
    public boolean available() {
        return workers != null && !workers.isEmpty();
    }

    @Override
    public Offload offload(String requestId, Plan plan, byte[] pixels, Tensor tokens, long deadline, Listener listener) {
        Call c = new Call(requestId, plan, pixels, tokens, deadline, listener);
        try {
            uplink.execute(c::start);
        } catch (RejectedExecutionException e) {
            c.end();
        }
        return c;
    }

    @Override
    public void close() {
        uplink.shutdownNow();
    }

    /** One request's stream. */
    private final class Call implements Offload {
        final String id;
        final Plan plan;
        final byte[] pixels;
        final Tensor tokens;
        final long deadline;
        final Listener listener;
        final AtomicBoolean ended = new AtomicBoolean();
        volatile boolean cancelled;
        volatile CloudCall stream;
        volatile long bytes;
        volatile long sendStart;
        volatile boolean firstSeen;
        volatile double tokenShare = 1; // the share of the split's tokens sent: below 1 after a token reduction

        Call(String id, Plan plan, byte[] pixels, Tensor tokens, long deadline, Listener listener) {
            this.id = id;
            this.plan = plan;
            this.pixels = pixels;
            this.tokens = tokens;
            this.deadline = deadline;
            this.listener = listener;
        }

        void start() {
            if (cancelled || deadline - clock.nanoTime() <= 0) {
                end();
                return;
            }
            try {
                byte[] payload;
                Encoding enc;
                if (tokens == null) {
                    int[] in = segments.inputShape(1); // [1, C, H, W]
                    if (plan.encoding() == Encoding.JPEG) {
                        payload = JpegCodec.encode(pixels, in[1], in[2], in[3], jpegQuality);
                        enc = Encoding.JPEG;
                    } else {
                        payload = TensorCodec.encodeImage(pixels);
                        enc = Encoding.U8_IMAGE;
                    }
                } else {
                    enc = plan.encoding();
                    payload = TensorCodec.encode(tokens.data(), pack.manifest().tokens().dim(), enc);
                }
                int count = tokens == null ? 0 : tokens.shape()[1]; // fewer than the split's after a token reduction
                boolean reduced = tokens != null && count != segments.tokens();
                List<Integer> shape = segments.payloadShape(plan.split(), count);
                tokenShare = reduced ? (double) count / segments.tokens() : 1;
                long left = deadline - clock.nanoTime();
                if (left <= 0 || cancelled) {
                    end();
                    return;
                }
                InferHeader h = InferHeader.newBuilder()
                        .setRequestId(id)
                        .setModelId(pack.id())
                        .setModelVersion(pack.version())
                        .setSplit(plan.split())
                        .setEncoding(enc)
                        .addAllShape(shape)
                        .setDeadlineBudgetUs(TimeUnit.NANOSECONDS.toMicros(left))
                        .setPayloadBytes(payload.length)
                        .setKeptTokens(reduced ? count : 0)
                        .addAllSkipBlocks(plan.skip().within(plan.split(), pack.blockCount()).blocks())
                        .build();
                bytes = payload.length;
                sendStart = clock.nanoTime();
                stream = workers.infer(h, payload, left, this::onResult, this::onEnd);
                if (cancelled) {
                    stream.cancel("answered");
                }
            } catch (RuntimeException ex) {
                log.debug("cloud call for {} failed to start", id, ex);
                end();
            }
        }

        void onResult(ExitResult r) {
            if (!check.accept(r, plan.split(), plan.reduction().reduces())) {
                return;
            }
            float[] p = new float[r.getProbabilitiesCount()];
            for (int i = 0; i < p.length; i++) {
                p[i] = r.getProbabilities(i);
            }
            var t = r.getTiming();
            Candidate c = new Candidate(r.getExitIndex(), r.getBlock(), p, r.getPredictedClass(), r.getConfidence(), true,
                    clock.nanoTime(), new Candidate.ServerTiming(t.getReceiveUs() * 1000, t.getQueueUs() * 1000,
                            t.getComputeUs() * 1000, t.getMaxBatch()));
            EdgeMeasurements m = measurements;
            if (m != null && !firstSeen) {
                // the worker's blocks ran on fewer tokens: compare its compute with the profile scaled as the worker predicts it
                m.recordCloud(bytes, c, m.profiledCloudCompute(plan.split(), c.exit(), plan.skip()) * tokenShare, c.arrivedNanos() - sendStart);
            }
            firstSeen = true;
            listener.candidate(c);
        }

        void onEnd(Status s) {
            if (!s.isOk() && s.getCode() != Status.Code.CANCELLED) {
                log.debug("cloud path of {} ended: {}", id, s);
            }
            end();
        }

        void end() {
            if (ended.compareAndSet(false, true)) {
                listener.ended();
            }
        }

        @Override
        public long bytesSent() {
            return bytes;
        }

        @Override
        public void cancel(boolean deadlineWithoutResult) {
            cancelled = true;
            CloudCall s = stream;
            if (s != null) {
                s.cancel("answered");
            }
            EdgeMeasurements m = measurements;
            if (m != null && deadlineWithoutResult && bytes > 0 && !firstSeen) {
                int first = pack.firstExitAtOrAfter(plan.split() + 1);
                m.recordNoResult(bytes, clock.nanoTime() - sendStart, m.profiledCloudCompute(plan.split(), first));
            }
        }
    }
}
