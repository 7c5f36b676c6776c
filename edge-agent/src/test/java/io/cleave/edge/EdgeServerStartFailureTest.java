package io.cleave.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.testing.TestPacks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An edge whose start-up fails half way releases what it had built: no compute, timer or control thread outlives it. */
class EdgeServerStartFailureTest {
    static Set<Thread> edgeThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith("cleave-edge-"))
                .collect(Collectors.toSet());
    }

    @Test
    void anUnreadableEncodingsFile_failsTheStart_andLeavesNoEdgeThreadBehind(@TempDir Path dir) throws Exception {
        TestPacks.copyPack(dir);
        Files.writeString(dir.resolve("encodings.json"), "{ this is not json");
        Set<Thread> before = edgeThreads();
        // a worker (a closed port) so that the planner, which reads encodings.json, is built after the engine, the pipeline,
        // the deadline timer, the control thread and the link prober
        EdgeConfig cfg = EdgeConfig.builder(dir).workers(List.of("127.0.0.1:1")).warmUpMillis(0).build();
        assertThatThrownBy(() -> EdgeServer.start(cfg, null, false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("encodings.json");
        long end = System.nanoTime() + 5_000_000_000L;
        Set<Thread> left = edgeThreads();
        left.removeAll(before);
        while (!left.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(50);
            left = edgeThreads();
            left.removeAll(before);
        }
        assertThat(left).extracting(Thread::getName).isEmpty();
    }
}
