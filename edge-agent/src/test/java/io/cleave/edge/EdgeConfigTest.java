package io.cleave.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.image.ImageLimits;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EdgeConfigTest {
    private static final Path PACK = Path.of("pack");

    @Test
    void aBuilderGivenOnlyThePack_hasTheNamedDefaults_andAnEdgeOnlyPlanOverItsBlocks() {
        EdgeConfig c = EdgeConfig.builder(PACK).build();
        assertThat(c.kMax()).isEqualTo(EdgeConfig.DEFAULT_K_MAX);
        assertThat(c.workers()).isEmpty();
        assertThat(c.policy()).isEqualTo(PolicyRegistry.CLEAVE);
        assertThat(c.shutdownGraceMillis()).isEqualTo(EdgeConfig.DEFAULT_SHUTDOWN_GRACE_MILLIS);
        assertThat(c.warmUpMillis()).isEqualTo(EdgeConfig.DEFAULT_WARM_UP_MILLIS);
        assertThat(c.imageLimits()).isEqualTo(ImageLimits.DEFAULT);
        assertThat(c.plan()).isEqualTo(Plan.edgeOnly(EdgeConfig.DEFAULT_K_MAX, EdgeConfig.DEFAULT_THRESHOLD));
        assertThat(EdgeConfig.builder(PACK).kMax(2).build().plan()).isEqualTo(Plan.edgeOnly(2, EdgeConfig.DEFAULT_THRESHOLD));
        assertThat(c.deviceLabel()).isEqualTo(DeviceClass.unnamedLabel(EdgeConfig.DEFAULT_K_MAX, 1));
    }

    @Test
    void toBuilder_changesOnlyWhatItIsTold() {
        EdgeConfig c = EdgeConfig.builder(PACK).kMax(3).policy(PolicyRegistry.FIXED).via("127.0.0.1:9").warmUpMillis(0).jpegQuality(70).metricsPort(0)
                .build();
        EdgeConfig slower = c.toBuilder().slowdown(4).build();
        assertThat(slower).isEqualTo(new EdgeConfig(c.pack(), c.kMax(), c.threads(), c.workers(), c.plan(), c.concurrency(), c.host(),
                c.port(), c.shutdownGraceMillis(), c.policy(), c.coordinator(), c.via(), 4, c.warmUpMillis(), c.device(), c.imageLimits(), 70, 0, c.tls(), c.apiToken()));
    }

    @Test
    void anUnknownPolicy_aFasterThanRealDevice_andMissingImageLimits_areRefused() {
        assertThatThrownBy(() -> EdgeConfig.builder(PACK).policy("fastest").build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown policy 'fastest'").hasMessageContaining("fixed, cleave");
        assertThatThrownBy(() -> EdgeConfig.builder(PACK).slowdown(0.5).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slowdown must be >= 1");
        assertThatThrownBy(() -> EdgeConfig.builder(PACK).imageLimits(null).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("imageLimits");
        assertThatThrownBy(() -> EdgeConfig.builder(PACK).jpegQuality(0).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jpegQuality must be 1 to 100");
    }
}
