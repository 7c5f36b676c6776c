package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.cleave.core.data.Dataset;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.Outcome;
import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Candidate;
import io.cleave.proto.v1.Encoding;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The test set through a real edge agent and a real worker process at a fixed split gives, per
 * exit, exactly the predictions of the engine alone (with the same wire encoding applied).
 */
class SplitParityTest {
    static final int SPLIT = 2;
    /** Exits before this one run on the edge (blocks 1..SPLIT); from it on, on the worker. */
    static final int FIRST_CLOUD = TestPacks.pack().firstExitAtOrAfter(SPLIT + 1);
    static CleaveProcess worker;
    static ModelPack pack;
    static Dataset ds;

    @BeforeAll
    static void start() throws Exception {
        pack = TestPacks.pack();
        ds = TestPacks.testSet();
        worker = CleaveProcess.start();
    }

    @AfterAll
    static void stop() throws Exception {
        worker.close();
    }

    /** predictions[exit][image] as received by the edge (-1 where that exit had not arrived). */
    static int[][] throughEdgeAndWorker(Encoding enc, int n) throws Exception {
        int[][] pred = new int[pack.exitCount()][n];
        for (int[] row : pred) {
            Arrays.fill(row, -1);
        }
        // one request at a time: the worker then runs batch 1, like the reference
        Plan plan = new Plan(true, SPLIT, enc, 2.0, SPLIT);
        try (EdgeHarness edge = new EdgeHarness(SPLIT, worker.target(), plan, 1)) {
            for (int i = 0; i < n; i++) {
                Outcome o = edge.agent.classify("p" + i, ds.image(i), TimeUnit.SECONDS.toNanos(5)).get(10, TimeUnit.SECONDS);
                assertThat(o.answer().reason()).as("image " + i).isEqualTo("final-exit");
                for (Candidate c : o.candidates()) {
                    pred[c.exit()][i] = c.predictedClass();
                }
            }
        }
        return pred;
    }

    static int[][] reference(Encoding enc, int n) {
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults())) {
            return new ExitEvaluator(engine).predictions(ds, n, 1, SPLIT, enc);
        }
    }

    @Test
    void fp32_everyExit_matchesTheEngineAlone_onAll10kTestImages() throws Exception {
        int n = ds.size();
        int[][] got = throughEdgeAndWorker(Encoding.FP32, n);
        int[][] ref = reference(Encoding.FP32, n);
        assertThat(FIRST_CLOUD).as("the pack has local exits before the split").isPositive();
        for (int e = FIRST_CLOUD; e < pack.exitCount(); e++) { // cloud exits: always all present before the final answer
            assertThat(got[e]).as("cloud exit " + e).containsExactly(ref[e]);
        }
        for (int e = 0; e < FIRST_CLOUD; e++) { // local exits race the cloud; where one arrived first it must agree
            int localSeen = 0;
            for (int i = 0; i < n; i++) {
                if (got[e][i] >= 0) {
                    localSeen++;
                    assertThat(got[e][i]).as("local exit " + e + ", image " + i).isEqualTo(ref[e][i]);
                }
            }
            assertThat(localSeen).as("local exit " + e + " arrived").isGreaterThan(n * 9 / 10);
        }
        double[] acc = ExitEvaluator.accuracy(ref, ds, n);
        for (int e = 0; e < pack.exitCount(); e++) {
            assertThat(acc[e]).isCloseTo(pack.exit(e).accuracy().test(), within(0.001));
        }
    }

    @Test
    void fp16AndInt8_matchTheCodecReference_andTheRecordedAccuracy() throws Exception {
        JsonObject recorded = new Gson().fromJson(Files.readString(TestPacks.packDir().resolve("encodings.json")), JsonObject.class);
        for (Encoding enc : new Encoding[] {Encoding.FP16, Encoding.INT8}) {
            int n = ds.size();
            int[][] got = throughEdgeAndWorker(enc, n);
            int check = 2000;
            int[][] ref = reference(enc, check);
            for (int e = FIRST_CLOUD; e < pack.exitCount(); e++) {
                assertThat(Arrays.copyOf(got[e], check)).as(enc + " exit " + e).containsExactly(ref[e]);
            }
            double[] rec = recordedAccuracy(recorded, SPLIT, enc);
            double[] acc = ExitEvaluator.accuracy(got, ds, n);
            for (int e = FIRST_CLOUD; e < pack.exitCount(); e++) {
                assertThat(acc[e]).as(enc + " exit " + e + " accuracy").isCloseTo(rec[e], within(0.001));
            }
        }
    }

    static double[] recordedAccuracy(JsonObject recorded, int split, Encoding enc) {
        for (var r : recorded.getAsJsonArray("rows")) {
            JsonObject o = r.getAsJsonObject();
            if (o.get("split").getAsInt() == split && o.get("encoding").getAsString().equals(enc.name())) {
                return new Gson().fromJson(o.get("exitAccuracy"), double[].class);
            }
        }
        throw new AssertionError("no recorded accuracy for split " + split + " " + enc);
    }
}
