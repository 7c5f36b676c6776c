package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.cleave.core.testing.TestImages;
import org.junit.jupiter.api.Test;

/**
 * Reports made with an untrained pack (manifest {@code "trained": false}) say so: a header line in
 * text, {@code "trained": false} in JSON; reports made with the trained default pack do not. On the
 * committed packs: tiny-exit-types (random weights, 28x28 grayscale, so it runs on the committed
 * Fashion-MNIST test set) and tiny-deit (random weights, 32x32 RGB).
 */
@org.junit.jupiter.api.extension.ExtendWith(ProjectHome.class)
class UntrainedReportsTest {
    static final String EXIT_TYPES = TestImages.resource("packs/tiny-exit-types").toString();
    static final String UNTRAINED_LINE = "pack tiny-exit-types 0.1.0 (untrained: random weights, timing and bytes only)";



    @Test
    void eval_onAnUntrainedPack_saysSoInTextAndJson() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("eval", "--pack", EXIT_TYPES, "--limit", "50");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValue(UNTRAINED_LINE);
        assertThat(r.out()).containsPattern("(?m)^tiny-exit-types 0\\.1\\.0 on 50 test images");
        JsonObject o = BenchSmokeTest.json(BenchSmokeTest.cleave("eval", "--pack", EXIT_TYPES, "--limit", "50", "--json"));
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(o.getAsJsonArray("exits")).hasSize(6);
    }

    @Test
    void eval_onTheTrainedDefaultPack_hasNoUntrainedLine() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("eval", "--limit", "50");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("untrained").startsWith("fmnist-vit8 ");
        JsonObject o = BenchSmokeTest.json(BenchSmokeTest.cleave("eval", "--limit", "50", "--json"));
        assertThat(o.get("trained").getAsBoolean()).isTrue();
    }

    @Test
    void edgeImages_onAnUntrainedPack_saysSoAboveItsSummary() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("edge", "--pack", EXIT_TYPES, "--k-max", "4", "--images", "20", "--warm-up-ms", "0",
                "--deadline-ms", "10000");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValue(UNTRAINED_LINE);
        assertThat(r.out()).contains("requests 20, answered 20, errors 0");
    }

    @Test
    void bytes_text_namesTheUntrainedPackOnly() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("bench", "bytes", "--pack", BenchSmokeTest.TINY);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValue("pack tiny-deit 0.1.0 (untrained: random weights, timing and bytes only)");
        assertThat(r.out()).doesNotContain("pack fmnist-vit8 " + io.cleave.core.testing.TestPacks.pack().version() + " (untrained");
        JsonObject o = BenchSmokeTest.json(BenchSmokeTest.cleave("bench", "bytes", "--pack", BenchSmokeTest.TINY, "--json"));
        assertThat(o.getAsJsonArray("packs").get(0).getAsJsonObject().get("trained").getAsBoolean()).isTrue();
        assertThat(o.getAsJsonArray("packs").get(1).getAsJsonObject().get("trained").getAsBoolean()).isFalse();
    }

    @Test
    void image_text_startsWithTheUntrainedLine() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("bench", "image", "--pack", BenchSmokeTest.TINY, "--rounds", "2", "--warmup", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValue("pack tiny-deit 0.1.0 (untrained: random weights, timing and bytes only)");
        JsonObject o = BenchSmokeTest.json(BenchSmokeTest.cleave("bench", "image", "--pack", BenchSmokeTest.TINY, "--rounds", "2",
                "--warmup", "1", "--json"));
        assertThat(o.get("trained").getAsBoolean()).isFalse();
    }
}
