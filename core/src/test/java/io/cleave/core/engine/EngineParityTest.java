package io.cleave.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.data.Dataset;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every golden tensor PyTorch recorded is reproduced by the Java engine within the pack's tolerance. */
class EngineParityTest {
    static ModelPack pack;
    static SegmentEngine engine;
    static double tol;

    @BeforeAll
    static void open() {
        pack = TestPacks.pack();
        engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(2));
        tol = pack.manifest().golden().tolerance();
        assertThat(tol).isLessThanOrEqualTo(1e-4);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static Tensor golden(String name) {
        for (Manifest.GoldenTensor g : pack.manifest().golden().tensors()) {
            if (g.name().equals(name)) {
                return new Tensor(pack.golden(name), g.shape().stream().mapToInt(Integer::intValue).toArray());
            }
        }
        throw new AssertionError("no golden " + name);
    }

    @Test
    void stem_matchesPyTorch() {
        assertClose(engine.stem(golden("input")), golden("tokens_after_stem"), "stem");
    }

    @Test
    void everyBlock_matchesPyTorch_fromGoldenInput() {
        for (int b = 1; b <= pack.blockCount(); b++) {
            Tensor in = golden(b == 1 ? "tokens_after_stem" : String.format("tokens_after_block_%02d", b - 1));
            assertClose(engine.blocks(in, b - 1, b), golden(String.format("tokens_after_block_%02d", b)), "block " + b);
        }
    }

    @Test
    void everyExit_matchesPyTorch() {
        for (Manifest.Exit e : pack.manifest().exits()) {
            Tensor in = golden(String.format("tokens_after_block_%02d", e.afterBlock()));
            assertClose(engine.exit(e.index(), in), golden("logits_exit_" + e.index()), "exit " + e.index());
        }
    }

    @Test
    void blockRange_chainsLikeSingleBlocks() {
        Tensor all = engine.blocks(golden("tokens_after_stem"), 0, pack.blockCount());
        assertClose(all, golden(String.format("tokens_after_block_%02d", pack.blockCount())), "blocks 1..N");
    }

    @Test
    void batchOfOne_matchesItsRowInTheBatch() {
        Tensor in = golden("input");
        Tensor batch = engine.blocks(engine.stem(in), 0, 3);
        for (int i = 0; i < in.batch(); i++) {
            Tensor one = engine.blocks(engine.stem(in.sample(i)), 0, 3);
            assertClose(one, batch.sample(i), "sample " + i);
        }
    }

    @Test
    void preprocessing_matchesPythonBitForBit() {
        Dataset ds = TestPacks.testSet();
        Tensor golden = golden("input");
        byte[] px = new byte[golden.batch() * ds.pixels()];
        System.arraycopy(ds.images(), 0, px, 0, px.length);
        assertThat(new Preprocessor(pack).apply(px, golden.batch()).data()).containsExactly(golden.data());
    }

    @Test
    void edgeEngine_loadsOnlyTheBlocksItHolds() {
        try (SegmentEngine edge = SegmentEngine.open(pack, EngineOptions.defaults().withMaxBlock(4))) {
            assertThat(edge.maxBlock()).isEqualTo(4);
            List<Manifest.Exit> exits = pack.manifest().exits();
            for (Manifest.Exit e : exits) {
                assertThat(edge.hasExit(e.index())).isEqualTo(e.afterBlock() <= 4);
            }
            assertClose(edge.blocks(golden("tokens_after_stem"), 0, 4), golden("tokens_after_block_04"), "edge blocks");
        }
    }

    private static void assertClose(Tensor actual, Tensor expected, String what) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        float[] a = actual.data();
        float[] e = expected.data();
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - e[i]));
        }
        assertThat(worst).as(what + " max abs difference").isLessThanOrEqualTo(tol);
    }
}
