package io.cleave.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Block skipping: parsing, and the Java engine's accuracy with blocks left out on the 10k test images equal to what
 * onnx-models/add_block_skipping.py recorded in PyTorch; the planner reads those figures.
 */
class BlockSkipTest {
    @Test
    void parsing_namesWhatIsAllowed() {
        assertThat(BlockSkip.parse("5,6").blocks()).containsExactly(5, 6);
        assertThat(BlockSkip.parse(" none ")).isEqualTo(BlockSkip.NONE);
        assertThat(BlockSkip.parse("6,5")).isEqualTo(BlockSkip.parse("5,6"));
        assertThat(BlockSkip.parse("2,7").within(2, 8).blocks()).containsExactly(7);
        assertThat(BlockSkip.parse("2,7").within(0, 2).blocks()).containsExactly(2);
        assertThat(BlockSkip.parse("3").first()).isEqualTo(3);
        assertThatThrownBy(() -> BlockSkip.parse("0")).hasMessageContaining("numbered 1 to 30");
        assertThatThrownBy(() -> BlockSkip.parse("five")).hasMessageContaining("block numbers comma-separated");
    }

    @ParameterizedTest(name = "skip {0}")
    @ValueSource(strings = {"3", "5,6"})
    void everyExit_withBlocksSkipped_onTheTestSet_matchesTheRecordedCost(String blocks) {
        ModelPack pack = TestPacks.pack();
        BlockSkip skip = BlockSkip.parse(blocks);
        Manifest.SkipSet set = pack.manifest().blockSkipping().sets().stream().filter(s -> s.skip().equals(skip.blocks())).findFirst()
                .orElseThrow();
        var ds = TestPacks.testSet();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(2))) {
            int[][] pred = new ExitEvaluator(engine).evaluate(ds, ds.size(), 500, 0, Encoding.FP32, TokenReduction.NONE, skip).predictions();
            double[] acc = ExitEvaluator.accuracy(pred, ds, ds.size());
            for (Manifest.ExitCost e : set.exits()) {
                assertThat(acc[e.index()]).as("exit " + e.index()).isCloseTo(e.test(), within(0.001));
            }
            for (int x = 0; x < pack.exitCount() && pack.exit(x).afterBlock() < skip.first(); x++) { // before it: unchanged
                assertThat(acc[x]).as("exit " + x).isCloseTo(pack.exit(x).accuracy().test(), within(0.001));
            }
        }
    }

    @Test
    void thePlanner_readsTheMeasuredCost_andOffersFewSkipSets() {
        ModelPack pack = TestPacks.pack();
        PackStats stats = PackStats.of(pack);
        int last = pack.exitCount() - 1;
        Manifest.SkipSet set = pack.manifest().blockSkipping().sets().stream().filter(s -> s.skip().equals(List.of(5, 6))).findFirst()
                .orElseThrow();
        double recorded = set.exits().stream().filter(e -> e.index() == last).findFirst().orElseThrow().validation();
        Plan skipping = new Plan(true, 2, Encoding.FP32, 2.0, 2).withSkip(BlockSkip.parse("5,6"));
        assertThat(stats.accuracy(last, skipping, true)).isEqualTo(recorded);
        assertThat(stats.accuracy(0, skipping, false)).isEqualTo(pack.exit(0).accuracy().validation()); // before block 5: unchanged
        assertThat(stats.accuracy(last, skipping.withReduction(TokenReduction.parse("merge:0.5")), true)).isNaN(); // never measured together
        List<BlockSkip> options = stats.skipOptions(2);
        assertThat(options).isNotEmpty().hasSizeLessThanOrEqualTo(4);
        assertThat(options).allMatch(o -> o.blocks().size() <= 2);
        assertThat(options).anyMatch(o -> o.blocks().stream().allMatch(b -> b <= 2)); // one among the device's own blocks
    }
}
