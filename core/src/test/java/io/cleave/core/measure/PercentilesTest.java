package io.cleave.core.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PercentilesTest {
    @Test
    void nearestRankOnSortedSamples() {
        double[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertThat(Percentiles.of(v, 50)).isEqualTo(5);
        assertThat(Percentiles.of(v, 95)).isEqualTo(10);
        assertThat(Percentiles.of(v, 10)).isEqualTo(1);
        assertThat(Percentiles.of(v, 100)).isEqualTo(10);
        long[] ns = new long[100];
        for (int i = 0; i < ns.length; i++) {
            ns[i] = (i + 1) * 1000L;
        }
        assertThat(Percentiles.of(ns, 99)).isEqualTo(99_000);
        assertThat(Percentiles.of(new long[] {7}, 1)).isEqualTo(7);
    }

    @Test
    void noSamplesIsNaN_andAPercentileOutOfRangeIsRefused() {
        assertThat(Percentiles.of(new double[0], 50)).isNaN();
        assertThat(Percentiles.of(new long[0], 99)).isNaN();
        assertThatThrownBy(() -> Percentiles.of(new double[] {1}, 0)).hasMessageContaining("percentile must be in (0, 100], got 0");
        assertThatThrownBy(() -> Percentiles.of(new double[] {1}, 101)).isInstanceOf(IllegalArgumentException.class);
    }
}
