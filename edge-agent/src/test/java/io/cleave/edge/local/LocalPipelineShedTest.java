package io.cleave.edge.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.testing.TestPacks;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Work that has missed its deadline behind a backlog is dropped before it starts, so that it does
 * not make the requests behind it late too; without a backlog it still runs (a late answer costs
 * nobody). The real pipeline on the committed pack, one compute thread held by the test, a manual
 * clock.
 */
class LocalPipelineShedTest {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void behindABacklog_workPastItsDeadlineIsShed_theLastOneStillRuns() throws Exception {
        AtomicLong now = new AtomicLong(1_000 * MS);
        try (SegmentEngine engine = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withMaxBlock(4));
                LocalPipeline local = new LocalPipeline(engine, 1, now::get)) {
            local.warmUp(4);
            int first = local.firstExitBlock();
            Tensor image = local.preprocess(TestPacks.testSet().image(0));
            CountDownLatch release = new CountDownLatch(1);
            Recorder holder = new Recorder(release);
            local.submit(image, now.get() + 1_000 * MS, first, -1, holder);
            assertThat(holder.inExit.await(10, TimeUnit.SECONDS)).as("the only thread is held").isTrue();

            Recorder shed = new Recorder(null);
            Recorder last = new Recorder(null);
            local.submit(image, now.get() + 40 * MS, first, -1, shed);
            local.submit(image, now.get() + 50 * MS, first, -1, last);
            assertThat(local.backlogged()).as("two requests await their first exit, one thread").isTrue();
            now.addAndGet(60 * MS); // both deadlines pass while the thread is held
            release.countDown();

            RuntimeException why = shed.finished.get(10, TimeUnit.SECONDS);
            assertThat(why).isInstanceOf(LocalPipeline.Shed.class).hasMessageContaining("edge overloaded")
                    .hasMessageContaining("could not come by the deadline");
            assertThat(shed.exits).as("no compute spent on it").isEmpty();
            // alone in the queue, nobody waits behind it: it runs, and its (late) exit can still answer
            assertThat(last.finished.get(10, TimeUnit.SECONDS)).isNull();
            assertThat(last.exits).hasSize(1);
            assertThat(holder.finished.get(10, TimeUnit.SECONDS)).isNull();
            assertThat(local.backlogged()).isFalse();
        }
    }
}
