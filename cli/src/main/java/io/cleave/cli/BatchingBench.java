package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.ComputeDevice;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.experiment.Progress;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.InferHeader;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.cleave.worker.batch.SchedulerConfig;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Worker throughput with layer-wise batching vs batch 1, closed loop of concurrent streams at mixed splits. */
@Command(name = "batching", mixinStandardHelpOptions = true,
        description = "Worker throughput (requests/s) with layer-wise batching vs batch 1: a real worker on loopback, N "
                + "concurrent client streams in a closed loop entering at mixed splits (input, tokens after block 2, 4, where "
                + "the pack is deeper than that), with the pack's own input and token shapes. "
                + "Prints both and the ratio.")
final class BatchingBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--streams", defaultValue = "${env:CLEAVE_BENCH_BATCHING_STREAMS:-32}",
            description = "concurrent client streams in the closed loop (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_BATCHING_STREAMS)") int streams;
    @Option(names = "--max-batch", defaultValue = "${env:CLEAVE_BENCH_BATCHING_MAX_BATCH:-32}",
            description = "the worker's largest batch per block in the batched mode (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_BATCHING_MAX_BATCH)") int maxBatch;
    @Option(names = "--seconds", defaultValue = "${env:CLEAVE_BENCH_BATCHING_SECONDS:-5}",
            description = "measured seconds per mode (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_BATCHING_SECONDS)") double seconds;
    @Option(names = "--warmup-s", defaultValue = "${env:CLEAVE_BENCH_BATCHING_WARMUP_S:-1}",
            description = "seconds of traffic before measuring, per mode; a 224x224 pack "
            + "needs more than the default: its requests take a second or more at 32 streams (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_BATCHING_WARMUP_S)") double warmupSeconds;
    @Option(names = "--device", paramLabel = "cpu|cuda[:N]|auto", defaultValue = "${env:CLEAVE_BENCH_BATCHING_DEVICE:-cpu}",
            description = "where the benchmarked worker's engine runs, as cleave worker --device (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_BATCHING_DEVICE)") String device;
    @Option(names = "--json", description = "print the result as JSON (default: off)") boolean json;
    private String engineOn = "";

    record Run(double rps, double meanBatch, long completed) {}

    @Override
    public Integer call() throws Exception {
        ComputeDevice on = ComputeDevice.parse(device);
        ModelPack pack = ModelPack.load(packOptions.pack());
        // the input, and tokens after blocks 2 and 4 where the pack has more blocks than that
        int[] splits = IntStream.of(0, 2, 4).filter(k -> k < pack.blockCount()).toArray();
        byte[][] payloads = new byte[splits.length][];
        byte[] image = BenchInputs.images(pack, 1).get(0);
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults())) {
            var t = engine.stem(new Preprocessor(pack).apply(image, 1));
            int d = pack.manifest().tokens().dim();
            for (int i = 0; i < splits.length; i++) {
                payloads[i] = splits[i] == 0 ? image : TensorCodec.encode(engine.blocks(t, 0, splits[i]).data(), d, Encoding.FP16);
            }
        }
        String splitNames = Arrays.stream(splits).mapToObj(String::valueOf).collect(Collectors.joining("/"));
        Run batched = run(pack, payloads, splits, maxBatch, on);
        Run single = run(pack, payloads, splits, 1, on);
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("trained", pack.trained());
            out.put("splits", splits);
            out.put("streams", streams);
            out.put("threads", packOptions.threads);
            out.put("engineOn", engineOn);
            out.put("batchedRps", batched.rps);
            out.put("batchedMeanMaxBatch", batched.meanBatch);
            out.put("batch1Rps", single.rps);
            out.put("ratio", batched.rps / single.rps);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
        } else {
            Untrained.print(System.out, pack);
            System.out.printf("worker throughput, pack %s, %d concurrent streams at splits %s (fp16 tokens), %d intra-op thread(s), "
                    + "%.0f s each%n", pack.id(), streams, splitNames, packOptions.threads, seconds);
            System.out.printf("worker engine on %s%n", engineOn);
            System.out.printf("%-30s %10.0f req/s  (mean batch %.1f)%n", "layer-wise batching (max " + maxBatch + ")", batched.rps, batched.meanBatch);
            System.out.printf("%-30s %10.0f req/s%n", "batch 1", single.rps);
            System.out.printf("ratio: %.2fx%n", batched.rps / single.rps);
        }
        return 0;
    }

    private Run run(ModelPack pack, byte[][] payloads, int[] splits, int batch, ComputeDevice on) throws Exception {
        SchedulerConfig sc = SchedulerConfig.defaults().withMaxBatch(batch).withQueueCapacity(4096).withAdmissionControl(false);
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(packOptions.threads).scheduler(sc).shutdownGraceMillis(1000).device(on).build();
        try (WorkerServer worker = WorkerServer.start(wc); WorkerClient client = new WorkerClient(List.of("127.0.0.1:" + worker.port()))) {
            engineOn = worker.target().toString();
            client.connect(5000);
            AtomicBoolean measuring = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong done = new AtomicLong();
            AtomicLong batchSum = new AtomicLong();
            CountDownLatch finished = new CountDownLatch(streams);
            for (int s = 0; s < streams; s++) {
                int k = s % splits.length;
                loop(pack, client, splits[k], payloads[k], measuring, stop, done, batchSum, finished);
            }
            Progress.sleep("max batch " + batch + ": warm-up, ms", (long) (warmupSeconds * 1000));
            measuring.set(true);
            long t0 = System.nanoTime();
            Progress.sleep("max batch " + batch + ": measuring, ms", (long) (seconds * 1000));
            long n = done.get();
            long b = batchSum.get();
            double elapsed = (System.nanoTime() - t0) / 1e9;
            stop.set(true);
            finished.await(10, TimeUnit.SECONDS);
            return new Run(n / elapsed, n == 0 ? 0 : (double) b / n, n);
        }
    }

    /** One closed-loop client stream: the next request leaves when the previous one's final exit arrived. */
    private void loop(ModelPack pack, WorkerClient client, int split, byte[] payload, AtomicBoolean measuring, AtomicBoolean stop,
            AtomicLong done, AtomicLong batchSum, CountDownLatch finished) {
        if (stop.get()) {
            finished.countDown();
            return;
        }
        Encoding enc = split == 0 ? Encoding.U8_IMAGE : Encoding.FP16;
        List<Integer> shape = Segments.of(pack).payloadShape(split);
        InferHeader h = InferHeader.newBuilder().setRequestId("b").setModelId(pack.id()).setModelVersion(pack.version()).setSplit(split)
                .setEncoding(enc).addAllShape(shape).setDeadlineBudgetUs(10_000_000).setPayloadBytes(payload.length).build();
        int[] lastBatch = new int[1];
        client.infer(h, payload, TimeUnit.SECONDS.toNanos(10), r -> {
            if (r.getLast()) {
                lastBatch[0] = r.getTiming().getMaxBatch();
            }
        }, (Status s) -> {
            if (s.isOk() && measuring.get()) {
                done.incrementAndGet();
                batchSum.addAndGet(lastBatch[0]);
            }
            loop(pack, client, split, payload, measuring, stop, done, batchSum, finished);
        });
    }
}
