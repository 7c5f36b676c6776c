package io.cleave.edge.rpc;

import io.cleave.core.error.StatusMapper;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.Outcome;
import io.cleave.edge.race.Candidate;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Source;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/** The local API for device applications: proto in, {@link EdgeAgent#classify} call, proto out. */
public final class EdgeService extends EdgeAgentGrpc.EdgeAgentImplBase {
    private final EdgeAgent agent;
    private final DoubleSupplier uplinkMbps;
    private final String policy;
    private final String device;

    /**
     * {@code uplinkMbps}: the edge's uplink estimate, NaN when it has none; {@code policy}: its planning policy; {@code device}:
     * its device class; both reported with each answer.
     */
    public EdgeService(EdgeAgent agent, DoubleSupplier uplinkMbps, String policy, String device) {
        this.agent = agent;
        this.uplinkMbps = uplinkMbps;
        this.policy = policy;
        this.device = device;
    }

    @Override
    public void classify(ClassifyRequest req, StreamObserver<ClassifyResponse> out) {
        if (req.getDeadlineMs() <= 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("deadline_ms must be > 0, got " + req.getDeadlineMs()).asRuntimeException());
            return;
        }
        long budget = TimeUnit.MILLISECONDS.toNanos(req.getDeadlineMs());
        io.grpc.Deadline d = Context.current().getDeadline();
        if (d != null) {
            budget = Math.min(budget, d.timeRemaining(TimeUnit.NANOSECONDS));
        }
        String id = req.getRequestId().isEmpty() ? UUID.randomUUID().toString() : req.getRequestId();
        try {
            agent.classify(id, req.getImage().toByteArray(), budget).whenComplete((o, err) -> {
                if (err != null) {
                    out.onError(StatusMapper.toException(err));
                } else {
                    out.onNext(toProto(o, agent.pack().manifest().labels(), uplinkMbps.getAsDouble(), policy).toBuilder()
                            .setDevice(device == null ? "" : device).build());
                    out.onCompleted();
                }
            });
        } catch (RuntimeException e) {
            out.onError(StatusMapper.toException(e));
        }
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
