package io.cleave.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.testing.TestPacks;
import org.junit.jupiter.api.Test;

class DeviceClassTest {

    @Test
    void everyEmulatedClass_isSlower_holdsPartOfTheModel_andSaysWhereItComesFrom() {
        assertThat(DeviceClass.all()).extracting(DeviceClass::name).contains("this-machine", "pi4", "pi5", "phone");
        for (DeviceClass c : DeviceClass.all()) {
            assertThat(c.kMax()).as(c.name()).isBetween(1, TestPacks.pack().blockCount());
            assertThat(c.source()).as(c.name()).isNotBlank();
            if (c.publishedMs() == 0) {
                assertThat(c.slowdown()).as(c.name()).isEqualTo(1.0);
                continue;
            }
            assertThat(c.slowdown()).as(c.name()).isGreaterThanOrEqualTo(1.0);
            assertThat(c.describe()).as(c.name()).contains("emulated", "not a real device");
        }
    }

    @Test
    void aClassHoldingFewerBlocks_stillHasALocalExit_inTheDefaultPack() {
        for (DeviceClass c : DeviceClass.all()) {
            assertThat(TestPacks.pack().exit(0).afterBlock()).as(c.name()).isLessThanOrEqualTo(c.kMax());
            assertThat(TestPacks.pack().manifest().exits()).as(c.name() + ": an exit right at its last block")
                    .anyMatch(e -> e.afterBlock() == c.kMax());
        }
    }

    @Test
    void anUnknownName_isRefused_namingTheKnownOnes() {
        assertThatThrownBy(() -> DeviceClass.named("toaster")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown device class 'toaster'").hasMessageContaining("pi4, pi5, phone");
        assertThat(DeviceClass.named(" PI4 ")).isEqualTo(DeviceClass.named("pi4"));
    }
}
