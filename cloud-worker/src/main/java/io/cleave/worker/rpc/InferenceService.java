package io.cleave.worker.rpc;

import io.cleave.core.engine.ExecutionTarget;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.RateLimitedLog;
import io.cleave.core.error.StatusMapper;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.time.Deadline;
import io.cleave.core.time.NanoClock;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.ProbeReply;
import io.cleave.proto.v1.TensorChunk;
import io.cleave.proto.v1.Timing;
import io.cleave.proto.v1.WorkerDescription;
import io.cleave.worker.batch.ExitOutput;
import io.cleave.worker.batch.Job;
import io.cleave.worker.batch.LayerScheduler;
import io.grpc.Context;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC handler of the worker: translates streams into {@link Job}s and results back, nothing
 * more. Inbound flow control is manual (one frame requested at a time). Frames arrive as
 * {@link Parsed} values from {@link AliasingMarshaller}, so bytes that are not a frame are refused
 * here like any other malformed request.
 */
public final class InferenceService {
    private static final Logger log = LoggerFactory.getLogger(InferenceService.class);
    /** Refused requests and malformed streams: one line per status code per interval, no stack trace. */
    private final RateLimitedLog refusals = RateLimitedLog.warnings(log);
    private final ModelPack pack;
    private final LayerScheduler scheduler;
    private final Preprocessor preprocessor;
    private final NanoClock clock;
    private final long maxPayloadBytes;
    private final ExecutionTarget target;

    public InferenceService(ModelPack pack, LayerScheduler scheduler, NanoClock clock, long maxPayloadBytes, ExecutionTarget target) {
        this.target = target;
        this.pack = pack;
        this.scheduler = scheduler;
        this.preprocessor = new Preprocessor(pack);
        this.clock = clock;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** The service definition to register: Infer frames and Probe chunks are parsed with a single copy. */
    public ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(InferenceWorkerGrpc.SERVICE_NAME)
                .addMethod(AliasingMarshaller.parsing(InferenceWorkerGrpc.getInferMethod()), ServerCalls.asyncBidiStreamingCall(this::infer))
                .addMethod(AliasingMarshaller.parsing(InferenceWorkerGrpc.getProbeMethod()), ServerCalls.asyncClientStreamingCall(this::probe))
                .addMethod(InferenceWorkerGrpc.getDescribeMethod(), ServerCalls.asyncUnaryCall(this::describe))
                .build();
    }

    StreamObserver<Parsed<InferFrame>> infer(StreamObserver<ExitResult> responses) {
        ServerCallStreamObserver<ExitResult> call = (ServerCallStreamObserver<ExitResult>) responses;
        call.disableAutoRequest();
        Call c = new Call(call, clock.nanoTime(), Context.current().getDeadline());
        call.setOnCancelHandler(c::cancelled);
        call.request(1);
        return c;
    }

    void describe(DescribeRequest request, StreamObserver<WorkerDescription> responses) {
        WorkerDescription.Builder d = WorkerDescription.newBuilder()
                .setModelId(pack.id())
                .setModelVersion(pack.version())
                .setBlocks(pack.blockCount())
                .setMaxBatch(scheduler.config().maxBatch())
                .setQueued(scheduler.queued())
                .setDevice(target.device())
                .setExecutionProvider(target.provider());
        pack.manifest().exits().forEach(e -> d.addExitBlocks(e.afterBlock()));
        double[][] prof = scheduler.profile().snapshot();
        for (int seg = 0; seg < prof.length; seg++) {
            for (int n = 1; n < prof[seg].length; n++) {
                if (prof[seg][n] > 0) {
                    d.addProfile(BlockProfile.newBuilder().setBlock(seg).setBatch(n).setMeanUs(prof[seg][n] / 1e3));
                }
            }
        }
        responses.onNext(d.build());
        responses.onCompleted();
    }

    StreamObserver<Parsed<TensorChunk>> probe(StreamObserver<ProbeReply> responses) {
        return new StreamObserver<>() {
            long bytes;
            long first;
            long last;
            boolean failed;

            @Override
            public void onNext(Parsed<TensorChunk> in) {
                if (failed) {
                    return;
                }
                if (in.error() != null) {
                    failed = true;
                    responses.onError(refused("probe", in.error()).asRuntimeException());
                    return;
                }
                TensorChunk c = in.message();
                last = clock.nanoTime();
                if (bytes == 0) {
                    first = last;
                }
                bytes += c.getData().size();
            }

            @Override
            public void onError(Throwable t) {
                // the prober went away; nothing to clean up
            }

            @Override
            public void onCompleted() {
                if (failed) {
                    return;
                }
                responses.onNext(ProbeReply.newBuilder().setBytes(bytes).setReceiveUs((last - first) / 1000).build());
                responses.onCompleted();
            }
        };
    }

    /** The status {@code t} ends a {@code method} call with, logged: a stack trace for our bugs, a rate-limited line for the rest. */
    private Status refused(String method, Throwable t) {
        Status s = StatusMapper.toStatus(t);
        if (StatusMapper.isOurBug(s)) {
            log.error("{} failed: {}", method, s.getDescription(), t);
        } else {
            refusals.log(s.getCode().name(), method + " refused: " + s.getDescription());
        }
        return s;
    }

    /** One inference stream. gRPC serializes inbound callbacks; results arrive on the scheduler thread. */
    private final class Call implements StreamObserver<Parsed<InferFrame>> {
        private final ServerCallStreamObserver<ExitResult> out;
        private final long startedAt;
        private final io.grpc.Deadline grpcDeadline;
        private StreamAssembler stream;
        private long receivedAt;
        private volatile CompletableFuture<Void> work;
        private boolean closed;
        private boolean resultsDone; // the last exit's result was sent
        private boolean clientDone; // the client half-closed: every frame it sent has been checked

        Call(ServerCallStreamObserver<ExitResult> out, long startedAt, io.grpc.Deadline grpcDeadline) {
            this.out = out;
            this.startedAt = startedAt;
            this.grpcDeadline = grpcDeadline;
        }

        @Override
        public void onNext(Parsed<InferFrame> in) {
            if (closed) {
                return;
            }
            try {
                InferFrame frame = in.get();
                if (frame.hasHeader()) {
                    if (stream != null) {
                        throw CleaveException.invalid("a second header on one stream");
                    }
                    stream = new StreamAssembler(frame.getHeader(), pack, maxPayloadBytes);
                } else if (frame.hasChunk()) {
                    if (stream == null) {
                        throw CleaveException.invalid("payload chunk before the header");
                    }
                    if (work != null) {
                        throw CleaveException.invalid("payload overruns the declared " + stream.header().getPayloadBytes() + " bytes");
                    }
                    if (stream.add(frame.getChunk().getData())) {
                        receivedAt = clock.nanoTime();
                        submit();
                    }
                } else {
                    throw CleaveException.invalid("empty frame: neither header nor chunk");
                }
                out.request(1);
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private void submit() {
            var h = stream.header();
            float[] values = stream.decode();
            if (h.getSplit() == 0) {
                boolean pixels = h.getEncoding() == Encoding.U8_IMAGE || h.getEncoding() == Encoding.JPEG;
                values = pixels ? preprocessor.apply(values, 1).data() : values;
            }
            long budget = TimeUnit.MICROSECONDS.toNanos(h.getDeadlineBudgetUs());
            Deadline deadline = Deadline.at(startedAt + budget, clock);
            if (grpcDeadline != null) {
                deadline = deadline.min(Deadline.after(grpcDeadline.timeRemaining(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS, clock));
            }
            BitSet exits = new BitSet();
            if (h.getExitsCount() == 0) {
                for (int e = pack.firstExitAtOrAfter(h.getSplit() + 1); e < pack.exitCount(); e++) {
                    if (h.getKeptTokens() == 0 || pack.exit(e).acceptsReducedTokens()) {
                        exits.set(e);
                    }
                }
            } else {
                h.getExitsList().forEach(exits::set);
            }
            String id = h.getRequestId();
            long receiveNanos = receivedAt - startedAt;
            work = scheduler.submit(new Job(id, values, h.getSplit(), h.getKeptTokens(), io.cleave.core.plan.BlockSkip.of(h.getSkipBlocksList()), deadline, exits, (o, last) -> send(id, o, last, receiveNanos)));
            work.whenComplete((v, err) -> {
                if (err != null && !(err instanceof java.util.concurrent.CancellationException)) {
                    fail(err);
                }
            });
        }

        private void send(String id, ExitOutput o, boolean last, long receiveNanos) {
            ExitResult.Builder r = ExitResult.newBuilder()
                    .setRequestId(id)
                    .setExitIndex(o.exit())
                    .setBlock(o.block())
                    .setPredictedClass(o.predictedClass())
                    .setConfidence(o.confidence())
                    .setLast(last)
                    .setTiming(Timing.newBuilder()
                            .setReceiveUs(receiveNanos / 1000)
                            .setQueueUs(o.queueNanos() / 1000)
                            .setComputeUs(o.computeNanos() / 1000)
                            .setMaxBatch(o.maxBatch()));
            for (float p : o.probabilities()) {
                r.addProbabilities(p);
            }
            synchronized (this) {
                if (closed || out.isCancelled()) {
                    return;
                }
                // results are tiny (one probability vector); gRPC buffers them if the peer is slow
                out.onNext(r.build());
                if (last) {
                    resultsDone = true;
                    if (clientDone) { // otherwise the call ends OK when the client half-closes
                        closed = true;
                        out.onCompleted();
                    }
                }
            }
        }

        private synchronized void fail(Throwable t) {
            if (closed) {
                return;
            }
            closed = true;
            CompletableFuture<Void> w = work;
            if (w != null) {
                w.cancel(false);
            }
            Status s = refused("infer", t);
            if (!out.isCancelled()) {
                out.onError(s.asRuntimeException());
            }
        }

        void cancelled() {
            CompletableFuture<Void> w = work;
            if (w != null) {
                w.cancel(false);
            }
            synchronized (this) {
                closed = true;
            }
        }

        @Override
        public void onError(Throwable t) {
            cancelled();
        }

        @Override
        public void onCompleted() {
            if (stream == null) {
                fail(CleaveException.invalid("stream ended without a header"));
            } else if (!stream.complete()) {
                fail(CleaveException.invalid("truncated payload: stream ended after " + stream.received() + " of "
                        + stream.header().getPayloadBytes() + " bytes"));
            } else {
                synchronized (this) {
                    clientDone = true;
                    if (resultsDone && !closed) {
                        closed = true;
                        out.onCompleted();
                    }
                }
            }
        }
    }

}
