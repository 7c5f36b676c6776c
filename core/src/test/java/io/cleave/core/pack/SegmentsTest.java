package io.cleave.core.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.testing.TestImages;
import io.cleave.core.testing.TestPacks;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one numbering of a pack's segments and the shapes of what they take, on a v1 and a v2 pack. */
class SegmentsTest {

    @Test
    void numbering_roundTrips_andCoversEverySegmentOnce() {
        ModelPack pack = TestPacks.pack(); // fmnist-vit8: 8 blocks, 6 exits
        Segments s = Segments.of(pack);
        assertThat(s.count()).isEqualTo(pack.blockCount() + 1 + pack.exitCount()).isEqualTo(15);
        Set<Integer> seen = new HashSet<>();
        assertThat(s.stem()).isEqualTo(Segments.STEM).isZero();
        assertThat(s.kind(s.stem())).isEqualTo(Segments.Kind.STEM);
        seen.add(s.stem());
        for (int k = 1; k <= pack.blockCount(); k++) {
            int seg = s.block(k);
            assertThat(s.kind(seg)).isEqualTo(Segments.Kind.BLOCK);
            assertThat(s.indexOf(seg)).isEqualTo(k);
            assertThat(s.isExit(seg)).isFalse();
            assertThat(seen.add(seg)).isTrue();
        }
        for (int e = 0; e < pack.exitCount(); e++) {
            int seg = s.exit(e);
            assertThat(s.kind(seg)).isEqualTo(Segments.Kind.EXIT);
            assertThat(s.indexOf(seg)).isEqualTo(e);
            assertThat(s.isExit(seg)).isTrue();
            assertThat(seen.add(seg)).isTrue();
        }
        assertThat(seen).hasSize(s.count()).allMatch(seg -> seg >= 0 && seg < s.count());
        assertThat(s.exit(0)).isEqualTo(9); // the wire's profile numbering: blocks + 1 + e
        assertThat(s.name(0)).isEqualTo("stem");
        assertThat(s.name(3)).isEqualTo("block 3");
        assertThat(s.name(10)).isEqualTo("exit 1");
    }

    @Test
    void outOfRange_isRejected() {
        Segments s = Segments.numbering(8, 6);
        assertThatThrownBy(() -> s.block(0)).hasMessageContaining("block 0 outside 1..8");
        assertThatThrownBy(() -> s.block(9)).hasMessageContaining("block 9 outside 1..8");
        assertThatThrownBy(() -> s.exit(6)).hasMessageContaining("exit 6 outside 0..5");
        assertThatThrownBy(() -> s.kind(15)).hasMessageContaining("segment 15 outside 0..14");
        assertThat(s.isExit(15)).isFalse();
        assertThatThrownBy(() -> s.tokenShape(1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shapes_version1Pack() {
        Segments s = Segments.of(TestPacks.pack()); // [1, 28, 28] grayscale, 50 x 64 tokens, 10 classes
        assertThat(s.inputShape(1)).containsExactly(1, 1, 28, 28);
        assertThat(s.inputShape(8)).containsExactly(8, 1, 28, 28);
        assertThat(s.tokenShape(4)).containsExactly(4, 50, 64);
        assertThat(s.logitsShape(3)).containsExactly(3, 10);
        assertThat(s.payloadShape(0)).isEqualTo(List.of(1, 1, 28, 28));
        assertThat(s.payloadShape(2)).isEqualTo(List.of(1, 50, 64));
        assertThat(Segments.sampleSize(s.inputShape(8))).isEqualTo(784);
        assertThatThrownBy(() -> s.payloadShape(9)).hasMessageContaining("split 9 outside 0..8");
    }

    @Test
    void shapes_version2Pack() {
        ModelPack pack = ModelPack.load(TestImages.resource("packs/tiny-vit224"));
        assertThat(pack.manifest().formatVersion()).isEqualTo(2);
        Segments s = Segments.of(pack); // 4 blocks, 2 exits, [3, 224, 224] RGB, 197 x 32 tokens
        assertThat(s.count()).isEqualTo(7);
        assertThat(s.exit(1)).isEqualTo(6);
        assertThat(s.inputShape(2)).containsExactly(2, 3, 224, 224);
        assertThat(s.tokenShape(1)).containsExactly(1, 197, 32);
        assertThat(s.logitsShape(1)).containsExactly(1, 10);
        assertThat(s.payloadShape(0)).isEqualTo(List.of(1, 3, 224, 224));
        assertThat(s.payloadShape(3)).isEqualTo(List.of(1, 197, 32));
    }
}
