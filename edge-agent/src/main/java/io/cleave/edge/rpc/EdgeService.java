package io.cleave.edge.rpc;

import io.cleave.core.error.StatusMapper;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.EdgeMetrics;
import io.cleave.edge.Outcome;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.image.ImageIntake;
import io.cleave.edge.image.ImageLimits;
import io.cleave.edge.image.ImageOutcome;
import io.cleave.edge.image.PreparedImage;
import io.cleave.edge.race.Candidate;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.ImageInfo;
import io.cleave.proto.v1.RankedClass;
import io.cleave.proto.v1.Source;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The local API for device applications: proto in, {@link EdgeAgent#classify} call (through the
 * {@link ImageIntake} for an encoded image), proto out.
 */
public final class EdgeService extends EdgeAgentGrpc.EdgeAgentImplBase {
    /** Classes returned in {@code top} when a request asks for none. */
    public static final int DEFAULT_TOP_K = 3;

    private final EdgeAgent agent;
    private final ImageIntake intake;
    private final DoubleSupplier uplinkMbps;
    private final String policy;
    private final String device;
    private final EdgeMetrics metrics;

    /**
     * {@code uplinkMbps}: the edge's uplink estimate, NaN when it has none; {@code policy}: its planning policy; {@code device}:
     * its device class; both reported with each answer.
     */
    public EdgeService(EdgeAgent agent, DoubleSupplier uplinkMbps, String policy, String device) {
        this(agent, new ImageIntake(agent, ImageLimits.DEFAULT, NanoClock.SYSTEM), uplinkMbps, policy, device, EdgeMetrics.none());
    }

    /** Same, taking encoded images through {@code intake} (its limits, its clock), counting every request in {@code metrics}. */
    public EdgeService(EdgeAgent agent, ImageIntake intake, DoubleSupplier uplinkMbps, String policy, String device, EdgeMetrics metrics) {
        this.metrics = metrics;
        this.agent = agent;
        this.intake = intake;
        this.uplinkMbps = uplinkMbps;
        this.policy = policy;
        this.device = device;
    }

    @Override
    public void classify(ClassifyRequest req, StreamObserver<ClassifyResponse> client) {
        StreamObserver<ClassifyResponse> out = counted(client);
        if (req.getDeadlineMs() <= 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("deadline_ms must be > 0, got " + req.getDeadlineMs()).asRuntimeException());
            return;
        }
        boolean raw = !req.getImage().isEmpty();
        boolean encoded = !req.getEncodedImage().isEmpty();
        if (raw == encoded) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(raw
                    ? "set exactly one of image (raw pixels) and encoded_image (JPEG or PNG bytes), not both"
                    : "no image: set image (raw uint8 pixels, " + agent.pack().manifest().input().size()
                            + " for this pack) or encoded_image (JPEG or PNG bytes)").asRuntimeException());
            return;
        }
        if (req.getTopK() < 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("top_k must be >= 0 (0: " + DEFAULT_TOP_K + "), got " + req.getTopK())
                    .asRuntimeException());
            return;
        }
        int topK = req.getTopK() == 0 ? DEFAULT_TOP_K : req.getTopK();
        long budget = TimeUnit.MILLISECONDS.toNanos(req.getDeadlineMs());
        io.grpc.Deadline d = Context.current().getDeadline();
        if (d != null) {
            budget = Math.min(budget, d.timeRemaining(TimeUnit.NANOSECONDS));
        }
        String id = req.getRequestId().isEmpty() ? UUID.randomUUID().toString() : req.getRequestId();
        List<String> labels = agent.pack().manifest().labels();
        if (encoded) {
            CompletableFuture<ImageOutcome> f = intake.classify(id, req.getEncodedImage().toByteArray(), budget);
            cancelWithTheClient(client, f);
            f.whenComplete((r, err) -> {
                if (ended(err, out)) {
                    return;
                }
                PreparedImage img = r.image();
                metrics.answered(r.outcome());
                out.onNext(answer(r.outcome(), labels, topK).setLatencyUs(r.latencyNanos() / 1000)
                        .setInput(ImageInfo.newBuilder().setFormat(img.format()).setWidth(img.width()).setHeight(img.height())
                                .setChannels(img.channels()).setPreprocessing(img.preprocessing()).setAdapted(img.adapted())
                                .setDecodeUs(img.decodeNanos() / 1000))
                        .build());
                out.onCompleted();
            });
            return;
        }
        try {
            CompletableFuture<Outcome> f = agent.classify(id, req.getImage().toByteArray(), budget);
            cancelWithTheClient(client, f);
            f.whenComplete((o, err) -> {
                if (ended(err, out)) {
                    return;
                }
                metrics.answered(o);
                out.onNext(answer(o, labels, topK).build());
                out.onCompleted();
            });
        } catch (RuntimeException e) {
            out.onError(StatusMapper.toException(e));
        }
    }

    /**
     * A client that cancels (or whose deadline passes) stops the request's work, not only the wait for it. gRPC runs the
     * handler after this method returns, on the call's own executor, so a cancel that came first is not missed.
     */
    private static void cancelWithTheClient(StreamObserver<ClassifyResponse> client, CompletableFuture<?> work) {
        ((ServerCallStreamObserver<ClassifyResponse>) client).setOnCancelHandler(() -> work.cancel(false));
    }

    /** Ends the call of a request that has no answer: true for an error (sent) or the client's cancel (nobody to send to). */
    private boolean ended(Throwable err, StreamObserver<ClassifyResponse> out) {
        if (err instanceof CancellationException) {
            metrics.failed(Status.Code.CANCELLED);
            return true;
        }
        if (err != null) {
            out.onError(StatusMapper.toException(err));
            return true;
        }
        return false;
    }

    /** {@code out}, counting how each request ends: its answer's exit and source, or its error's status. */
    private StreamObserver<ClassifyResponse> counted(StreamObserver<ClassifyResponse> out) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ClassifyResponse r) {
                out.onNext(r);
            }

            @Override
            public void onError(Throwable t) {
                metrics.failed(Status.fromThrowable(t).getCode());
                out.onError(t);
            }

            @Override
            public void onCompleted() {
                out.onCompleted();
            }
        };
    }

    private ClassifyResponse.Builder answer(Outcome o, List<String> labels, int topK) {
        ClassifyResponse.Builder b = toProto(o, labels, uplinkMbps.getAsDouble(), policy).toBuilder().setDevice(device == null ? "" : device)
                .setUntrained(!agent.pack().trained());
        for (Outcome.Ranked r : o.top(topK, labels)) {
            b.addTop(RankedClass.newBuilder().setClassIndex(r.index()).setLabel(r.label()).setProbability(r.probability()));
        }
        return b;
    }

    static ClassifyResponse toProto(Outcome o, java.util.List<String> labels, double uplinkMbps, String policy) {
        Candidate c = o.answer().candidate();
        ClassifyResponse.Builder b = ClassifyResponse.newBuilder()
                .setRequestId(o.answer().requestId())
                .setPredictedClass(c.predictedClass())
                .setLabel(labels.get(c.predictedClass()))
                .setConfidence(c.confidence())
                .setExitIndex(c.exit())
                .setBlock(c.block())
                .setSource(c.cloud() ? Source.CLOUD : Source.LOCAL)
                .setLatencyUs(o.answer().latencyNanos() / 1000)
                .setDeadlineMet(o.answer().deadlineMet())
                .setSplit(o.plan().split())
                .setEncoding(o.plan().encoding())
                .setOffloaded(o.plan().offload())
                .setReason(o.answer().reason())
                .setBytesSent(o.bytesSent())
                .setPolicy(policy)
                .setEstimatedUplinkMbps(Double.isNaN(uplinkMbps) ? 0 : uplinkMbps);
        for (float p : c.probabilities()) {
            b.addProbabilities(p);
        }
        return b.build();
    }
}
