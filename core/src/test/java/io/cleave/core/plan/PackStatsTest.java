package io.cleave.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What the planner scores each exit with, read from real packs. */
class PackStatsTest {
    @Test
    void anUntrainedPack_scoresEachExitByItsDepth() throws Exception {
        ModelPack pack = ModelPack.load(Path.of("src/test/resources/packs/tiny-vit224"));
        assertThat(pack.trained()).isFalse();
        PackStats s = PackStats.of(pack);
        for (int x = 0; x < s.exits(); x++) {
            assertThat(s.accuracy(x, 0, Encoding.FP32, false)).isCloseTo((double) s.exitBlock(x) / s.blocks(), within(1e-12));
            if (x > 0) {
                assertThat(s.accuracy(x, 0, Encoding.FP32, false)).isGreaterThan(s.accuracy(x - 1, 0, Encoding.FP32, false));
            }
        }
    }

    @Test
    void aTrainedPack_keepsItsMeasuredAccuracy() {
        ModelPack pack = TestPacks.pack();
        assertThat(pack.trained()).isTrue();
        PackStats s = PackStats.of(pack);
        for (var e : pack.manifest().exits()) {
            assertThat(s.accuracy(e.index(), 0, Encoding.FP32, false)).isEqualTo(e.accuracy().validation());
        }
    }
}
