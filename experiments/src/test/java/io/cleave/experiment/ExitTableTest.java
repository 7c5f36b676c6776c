package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleave.core.data.Dataset;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import org.junit.jupiter.api.Test;

/** The replay's model side on the committed pack: what every exit answers, through the engine. */
class ExitTableTest {
    private static final int N = 300;

    @Test
    void table_agreesWithTheEvaluator_andItsConfidencesAreProbabilities() {
        ModelPack pack = TestPacks.pack();
        Dataset ds = TestPacks.testSet();
        ExitTable t = ExitTable.compute(pack, ds, N, 2, 1);
        assertEquals(N, t.images());
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults())) {
            ExitEvaluator ev = new ExitEvaluator(engine);
            double[] plain = ExitEvaluator.accuracy(ev.predictions(ds, N, 100), ds, N);
            double[] int8 = ExitEvaluator.accuracy(ev.predictions(ds, N, 100, 2, Encoding.INT8), ds, N);
            double[] fromTable = new double[pack.exitCount()];
            double[] int8FromTable = new double[pack.exitCount()];
            for (int e = 0; e < pack.exitCount(); e++) {
                for (int i = 0; i < N; i++) {
                    fromTable[e] += t.correct(i, e, false, 0, Encoding.FP32) ? 1.0 / N : 0;
                    int8FromTable[e] += t.correct(i, e, true, 2, Encoding.INT8) ? 1.0 / N : 0;
                    float c = t.confidence(i, e);
                    assertTrue(c >= 1.0f / pack.classes() - 1e-6 && c <= 1.0f + 1e-6, "exit " + e + " image " + i + ": " + c);
                }
            }
            assertArrayEquals(plain, fromTable, 1e-9);
            // the device runs one image at a time: batching does not change an answer
            ExitEvaluator.Results single = ev.evaluate(ds, 100, 1, 0, Encoding.FP32);
            for (int e = 0; e < pack.exitCount(); e++) {
                for (int i = 0; i < 100; i++) {
                    assertEquals(single.predictions()[e][i] == ds.labels()[i], t.correct(i, e, false, 0, Encoding.FP32), "exit " + e + " image " + i);
                    assertEquals(single.confidences()[e][i], t.confidence(i, e), 1e-5, "exit " + e + " image " + i);
                }
            }
            assertArrayEquals(int8, int8FromTable, 1e-9);
            // the raw input and FP32 tokens reach the worker unchanged: the cloud answers as the device would
            for (int i = 0; i < N; i++) {
                assertEquals(t.correct(i, 5, false, 0, Encoding.FP32), t.correct(i, 5, true, 1, Encoding.FP32));
                assertEquals(t.correct(i, 5, false, 0, Encoding.FP32), t.correct(i, 5, true, 0, Encoding.U8_IMAGE));
            }
        }
    }
}
