package io.cleave.edge.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.plan.Plan;
import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.Outcome;
import io.cleave.edge.local.LocalPipeline;
import io.cleave.edge.plan.FixedPlanner;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A worker that answers with malformed results (another party's, or a broken one): each is
 * dropped and counted before the race sees it, and the request is answered from a local exit as
 * soon as both paths are done.
 */
class BadWorkerResultsTest {
    static SegmentEngine engine;
    static LocalPipeline local;

    @BeforeAll
    static void open() {
        engine = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withMaxBlock(4));
        local = new LocalPipeline(engine, 1, NanoClock.SYSTEM);
        local.warmUp(5);
    }

    @AfterAll
    static void close() {
        local.close();
        engine.close();
    }

    /** A well-formed final-exit result for a request split at block 2, to be spoiled. */
    static ExitResult.Builder good() {
        ExitResult.Builder b = ExitResult.newBuilder().setRequestId("r").setExitIndex(TestPacks.pack().exitCount() - 1).setBlock(8).setPredictedClass(4)
                .setConfidence(0.91f).setLast(true);
        for (int i = 0; i < 10; i++) {
            b.addProbabilities(i == 4 ? 0.91f : 0.01f);
        }
        return b;
    }

    static List<UnaryOperator<ExitResult.Builder>> spoilers() {
        return List.of(
                b -> b.setPredictedClass(99),
                b -> b.setPredictedClass(-1),
                b -> b.setConfidence(Float.NaN),
                b -> b.setConfidence(1.5f),
                b -> b.clearProbabilities(),
                b -> b.setProbabilities(0, Float.NaN),
                b -> b.setProbabilities(0, 0.5f), // sums to 1.4
                b -> b.setExitIndex(TestPacks.pack().exitCount()), // no such exit
                b -> b.setExitIndex(TestPacks.pack().firstExitAtOrAfter(2)).setBlock(2), // an exit the edge computed itself, at the split
                b -> b.setBlock(6),
                b -> b.setPredictedClass(0).setConfidence(0.01f)); // not the most probable class
    }

    @ParameterizedTest
    @MethodSource("spoilers")
    void aMalformedResult_isDropped_andTheRequestIsAnsweredLocally(UnaryOperator<ExitResult.Builder> spoil)
            throws Exception {
        ExitResult bad = spoil.apply(good()).build();
        assertThat(new ResultCheck(TestPacks.pack()).problem(good().build(), 2)).as("the unspoiled result is fine").isNull();
        String name = InProcessServerBuilder.generateName();
        Server rogue = InProcessServerBuilder.forName(name).directExecutor().addService(new InferenceWorkerGrpc.InferenceWorkerImplBase() {
            @Override
            public StreamObserver<InferFrame> infer(StreamObserver<ExitResult> out) {
                return new StreamObserver<>() {
                    boolean answered;

                    @Override
                    public void onNext(InferFrame f) {
                        if (!answered) {
                            answered = true;
                            out.onNext(bad);
                            out.onCompleted(); // the worker says it is done: nothing valid came
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                };
            }
        }).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
        GrpcCloudPath cloud = new GrpcCloudPath(new WorkerClient(ch), TestPacks.pack(), NanoClock.SYSTEM);
        DeadlineTimer timer = DeadlineTimer.dedicated(NanoClock.SYSTEM);
        try {
            EdgeAgent agent = new EdgeAgent(local, cloud, new FixedPlanner(new Plan(true, 2, Encoding.FP16, 2.0, 4)), timer,
                    NanoClock.SYSTEM);
            Outcome o = agent.classify("r", TestPacks.testSet().image(0), TimeUnit.SECONDS.toNanos(2))
                    .get(5, TimeUnit.SECONDS);
            assertThat(o.answer().candidate().cloud()).isFalse();
            assertThat(o.answer().reason()).isEqualTo("all-done"); // local exits done and the cloud path ended
            assertThat(o.answer().deadlineMet()).isTrue();
            assertThat(o.candidates()).noneMatch(c -> c.cloud());
            assertThat(cloud.droppedResults()).isEqualTo(1);
        } finally {
            timer.close();
            cloud.close();
            ch.shutdownNow();
            rogue.shutdownNow();
        }
    }
}
