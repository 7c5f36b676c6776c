package io.cleave.cli;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.edge.DeviceClass;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Calibrates the named device classes: DeiT-Tiny (224x224, batch 1) through this project's engine
 * here, next to each class's published time on its real device, and the ratio (the slowdown the
 * class should emulate) beside the slowdown the registry holds.
 */
@Command(name = "device", mixinStandardHelpOptions = true,
        description = "DeiT-Tiny at 224x224, batch 1, through the Java engine on this machine (1 and 2 threads) next to each named "
                + "device class's published DeiT-Tiny time, and the ratio: the slowdown the class should emulate, beside the one it does.")
final class DeviceBench implements Callable<Integer> {
    @Option(names = "--reference-pack", defaultValue = "${env:CLEAVE_BENCH_DEVICE_REFERENCE_PACK}",
            description = "a DeiT-Tiny-geometry pack (default: made once, as `cleave pack deit-tiny` does, "
            + "into target/deit-tiny-random; random weights time like trained ones; env CLEAVE_BENCH_DEVICE_REFERENCE_PACK)")
    Path pack;

    @Option(names = "--python", defaultValue = "${env:CLEAVE_PYTHON:-/usr/bin/python3}",
            description = "Python with PyTorch, to make the default pack (default: ${DEFAULT-VALUE}; env CLEAVE_PYTHON)")
    String python;

    @Option(names = "--iters", defaultValue = "${env:CLEAVE_BENCH_DEVICE_ITERS:-60}",
            description = "timed passes per thread count (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_DEVICE_ITERS)")
    int iters;

    @Override
    public Integer call() throws Exception {
        if (iters < 5) {
            throw new IllegalArgumentException("--iters must be >= 5, got " + iters);
        }
        Path p = pack != null ? pack : makeReferencePack();
        ModelPack ref = ModelPack.load(p);
        Untrained.print(System.out, ref);
        System.out.printf(Locale.ROOT, "reference model: %s (%d blocks, width %d, %d tokens)%n", ref.id(), ref.blockCount(),
                ref.manifest().tokens().dim(), ref.manifest().tokens().count());
        double[] here = new double[3];
        for (int threads = 1; threads <= 2; threads++) {
            here[threads] = medianMs(ref, threads);
            System.out.printf(Locale.ROOT, "here, %d thread(s): %.1f ms (median of %d)%n", threads, here[threads], iters);
        }
        System.out.printf("%-13s %10s %12s %10s %10s%n", "class", "published", "here", "ratio", "registry");
        for (DeviceClass c : DeviceClass.all()) {
            if (c.publishedMs() == 0) {
                System.out.printf("%-13s %10s %12s %10s %10s%n", c.name(), "-", "-", "-", "1.0x");
                continue;
            }
            double h = here[c.hereThreads()];
            System.out.printf(Locale.ROOT, "%-13s %8.1f ms %7.1f ms/%dt %9.1fx %9.1fx%n", c.name(), c.publishedMs(), h, c.hereThreads(),
                    c.publishedMs() / h, c.slowdown());
        }
        System.out.println("sources:");
        for (DeviceClass c : DeviceClass.all()) {
            System.out.println("  " + c.name() + ": " + c.source());
        }
        return 0;
    }

    private double medianMs(ModelPack ref, int threads) {
        try (SegmentEngine engine = SegmentEngine.open(ref, EngineOptions.defaults().withThreads(threads))) {
            int[] in = Segments.of(ref).inputShape(1);
            Tensor img = new Tensor(new float[Segments.sampleSize(in)], in);
            int last = ref.exitCount() - 1;
            Runnable pass = () -> engine.exit(last, engine.blocks(engine.stem(img), 0, ref.blockCount()));
            for (int i = 0; i < 10; i++) {
                pass.run();
            }
            long[] t = new long[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                pass.run();
                t[i] = System.nanoTime() - t0;
            }
            Arrays.sort(t);
            return t[iters / 2] / 1e6;
        }
    }

    private Path makeReferencePack() throws Exception {
        PackMaker maker = new PackMaker(python, Paths.home());
        return maker.make(PackMaker.DEIT_TINY, maker.defaultOut(PackMaker.DEIT_TINY), false);
    }
}
