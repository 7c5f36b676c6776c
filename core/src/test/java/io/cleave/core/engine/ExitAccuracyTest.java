package io.cleave.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import org.junit.jupiter.api.Test;

/** The Java engine's per-exit accuracy on the 10k test images equals the manifest's (PyTorch) figure. */
class ExitAccuracyTest {
    @Test
    void everyExit_onTheFullTestSet_matchesManifestWithinATenthOfAPoint() {
        ModelPack pack = TestPacks.pack();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(2))) {
            double[] acc = new ExitEvaluator(engine).accuracy(TestPacks.testSet(), TestPacks.testSet().size(), 250);
            for (int e = 0; e < pack.exitCount(); e++) {
                assertThat(acc[e]).as("exit " + e).isCloseTo(pack.exit(e).accuracy().test(), within(0.001));
            }
        }
    }
}
