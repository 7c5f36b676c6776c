package io.cleave.core.reduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestImages;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Token reduction in Java against its Python reference (onnx-models/cleave_vit/reduce.py): the probe graphs and the
 * reduced tokens equal the pack's golden tensors, and the cloud exits' accuracy on the 10k test images with reduced
 * tokens equals the manifest's recorded cost.
 */
class TokenReducerTest {
    static ModelPack pack;
    static SegmentEngine engine;

    @BeforeAll
    static void open() {
        pack = TestPacks.pack();
        engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(2));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static Tensor golden(String name) {
        Manifest.GoldenTensor g = pack.manifest().golden().tensors().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no golden tensor " + name));
        return new Tensor(pack.golden(name), g.shape().stream().mapToInt(Integer::intValue).toArray());
    }

    static void assertClose(Tensor got, Tensor want, String what) {
        assertThat(got.shape()).as(what + " shape").containsExactly(want.shape());
        double worst = 0;
        for (int i = 0; i < want.data().length; i++) {
            worst = Math.max(worst, Math.abs(got.data()[i] - want.data()[i]));
        }
        assertThat(worst).as(what + ": max abs difference").isLessThan(1e-4);
    }

    @ParameterizedTest(name = "after block {0}, keep {1}")
    @CsvSource({"2,0.50", "5,0.25"})
    void probesAndReducedTokens_equalThePythonReference(int split, String keep) {
        Tensor tokens = golden(String.format("tokens_after_block_%02d", split));
        SegmentEngine.Probe probe = engine.probe(split + 1, tokens);
        assertClose(probe.clsAttention(), golden(String.format("probe_%02d_cls_attention", split + 1)), "class-token attention");
        assertClose(probe.keys(), golden(String.format("probe_%02d_keys", split + 1)), "keys");
        for (String method : List.of("attention", "merge")) {
            TokenReduction r = TokenReduction.parse(method + ":" + keep);
            Tensor reduced = TokenReducer.reduce(engine, split, tokens, r);
            assertThat(reduced.shape()[1]).isEqualTo(r.tokens(1, 50));
            assertClose(reduced, golden(String.format("reduced_%s_b%02d_k%s", method, split, keep)), method + " " + keep);
        }
    }

    @ParameterizedTest(name = "{1} at split {0}")
    @CsvSource({"4,attention:0.5", "2,merge:0.25", "6,merge:0.75"})
    void cloudExitAccuracy_onTheTestSet_matchesTheRecordedCost(int split, String reduction) {
        TokenReduction r = TokenReduction.parse(reduction);
        Manifest.ReductionCost cost = pack.manifest().tokenReduction().costs().stream()
                .filter(c -> c.split() == split && c.method().equals(r.method().wireName()) && c.keep() == r.keep())
                .findFirst().orElseThrow();
        assertThat(cost.tokens()).isEqualTo(r.tokens(pack.prefixTokens(), pack.manifest().tokens().count()));
        var ds = TestPacks.testSet();
        int[][] pred = new ExitEvaluator(engine).evaluate(ds, ds.size(), 500, split, Encoding.FP32, r).predictions();
        double[] acc = ExitEvaluator.accuracy(pred, ds, ds.size());
        for (Manifest.ExitCost e : cost.exits()) {
            assertThat(acc[e.index()]).as("exit " + e.index()).isCloseTo(e.test(), within(0.002));
        }
        double full = pack.exit(pack.exitCount() - 1).accuracy().test();
        assertThat(acc[pack.exitCount() - 1]).as("the final exit loses accuracy to the reduction").isLessThan(full);
    }

    @Test
    void keptCounts_followTheCeilingRule_andParsingNamesWhatIsAllowed() {
        assertThat(TokenReduction.parse("attention:0.5").tokens(1, 50)).isEqualTo(26); // ceil(24.5) + the class token
        assertThat(TokenReduction.parse("merge:0.25").tokens(1, 50)).isEqualTo(14);
        assertThat(TokenReduction.parse("merge:0.001").tokens(1, 50)).isEqualTo(2); // at least one patch token
        assertThat(TokenReduction.parse("merge:1").reduces()).isFalse();
        assertThat(TokenReduction.parse(" None ")).isEqualTo(TokenReduction.NONE);
        assertThat(TokenReduction.parse("merge:0.5").tokens(2, 198)).isEqualTo(100); // DeiT: class and distillation tokens
        assertThatThrownBy(() -> TokenReduction.parse("prune:0.5")).hasMessageContaining("none, attention or merge");
        assertThatThrownBy(() -> TokenReduction.parse("merge:0")).hasMessageContaining("outside (0, 1]");
        assertThatThrownBy(() -> TokenReduction.parse("merge:half")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> TokenReduction.parse("merge")).hasMessageContaining("attention:KEEP or merge:KEEP");
    }

    @Test
    void aPackWithFixedTokenGraphs_refusesAReduction() throws Exception {
        ModelPack fixed = ModelPack.load(TestImages.resource("packs/tiny-torchvision"));
        assertThat(fixed.reducible()).isFalse();
        try (SegmentEngine e = SegmentEngine.open(fixed, EngineOptions.defaults().withThreads(1))) {
            int[] shape = {1, fixed.manifest().tokens().count(), fixed.manifest().tokens().dim()};
            Tensor t = new Tensor(new float[shape[1] * shape[2]], shape);
            assertThatThrownBy(() -> TokenReducer.reduce(e, 1, t, TokenReduction.parse("merge:0.5")))
                    .isInstanceOfSatisfying(CleaveException.class, ex -> assertThat(ex.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION))
                    .hasMessageContaining("add_token_reduction.py");
            assertThat(TokenReducer.reduce(e, 1, t, TokenReduction.NONE)).isSameAs(t);
        }
    }

    @Test
    void theLastBlockHasNoBlockAfterIt_soItsTokensAreNotReduced() {
        Tensor t = golden("tokens_after_block_08");
        assertThatThrownBy(() -> TokenReducer.reduce(engine, 8, t, TokenReduction.parse("merge:0.5")))
                .hasMessageContaining("only after blocks 1..7");
    }
}
