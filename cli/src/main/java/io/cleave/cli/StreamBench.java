package io.cleave.cli;

import com.google.gson.GsonBuilder;
import com.google.protobuf.UnsafeByteOperations;
import io.cleave.core.net.DataPlane;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.security.Role;
import io.cleave.edge.cloud.CloudCall;
import io.cleave.edge.cloud.PayloadWriter;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.experiment.Progress;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.ProbeReply;
import io.cleave.proto.v1.TensorChunk;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.BufferedOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Token streaming goodput through Cleave's gRPC path vs a raw TCP socket, both on loopback. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = "Goodput of streaming a token tensor (the --pack's tokens, fp32; without --pack 197x384, ViT-S/16-sized) to a real worker over "
                + "gRPC with Cleave's chunking and flow control, vs a raw TCP socket on loopback; one tensor per request, "
                + "acknowledged, in both cases. Prints both and the ratio.")
final class StreamBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--tokens", defaultValue = "${env:CLEAVE_BENCH_STREAM_TOKENS}",
            description = "tokens per tensor (default: the --pack's, else 197; env CLEAVE_BENCH_STREAM_TOKENS)") Integer tokens;
    @Option(names = "--dim", defaultValue = "${env:CLEAVE_BENCH_STREAM_DIM}",
            description = "token width (default: the --pack's, else 384; env CLEAVE_BENCH_STREAM_DIM)") Integer dim;
    @Option(names = "--requests", defaultValue = "${env:CLEAVE_BENCH_STREAM_REQUESTS:-2000}",
            description = "tensors per measurement (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_STREAM_REQUESTS)") int requests;
    @Option(names = "--rounds", defaultValue = "${env:CLEAVE_BENCH_STREAM_ROUNDS:-11}",
            description = "alternating rounds; the median is reported (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_STREAM_ROUNDS)") int rounds;
    @Option(names = "--warmup-s", defaultValue = "${env:CLEAVE_BENCH_STREAM_WARMUP_S:-30}",
            description = "seconds of alternating warm-up before measuring; on 2 cores the JIT keeps "
            + "speeding up gRPC's path for about that long (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_STREAM_WARMUP_S)") int warmupSeconds;
    @Option(names = "--inflight", defaultValue = "${env:CLEAVE_BENCH_STREAM_INFLIGHT:-8}",
            description = "tensors in flight at once, in both paths (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_BENCH_STREAM_INFLIGHT)") int inflight;
    @Option(names = "--tls", defaultValue = "${env:CLEAVE_BENCH_STREAM_TLS:-false}", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "also stream to a second worker over mutual TLS (development certificates made for the run) "
            + "and print TLS against plaintext gRPC (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_STREAM_TLS)") boolean tls;
    @Option(names = "--json", description = "print the result as JSON (default: off)") boolean json;

    @Override
    public Integer call() throws Exception {
        // without a pack named, ViT-S/16's token shape: the worker's committed pack is too small to stream anything
        ModelPack pack = ModelPack.load(packOptions.pack()); // the worker's
        Manifest.Tokens shape = packOptions.pack != null ? pack.manifest().tokens() : null;
        int tokens = this.tokens != null ? this.tokens : shape != null ? shape.count() : 197;
        int dim = this.dim != null ? this.dim : shape != null ? shape.dim() : 384;
        if (tokens < 1 || dim < 1) {
            throw new IllegalArgumentException("--tokens and --dim must be >= 1, got " + tokens + "x" + dim);
        }
        byte[] payload = new byte[tokens * dim * 4];
        new Random(1).nextBytes(payload);
        double[] grpc = new double[rounds];
        double[] raw = new double[rounds];
        double[] secure = new double[rounds];
        WorkerConfig wc = WorkerConfig.builder(packOptions.pack()).threads(1).shutdownGraceMillis(1000).build();
        java.nio.file.Path certs = tls ? DevCertificates.temporary(List.of(Role.WORKER, Role.EDGE)) : null;
        WorkerConfig twc = tls ? WorkerConfig.builder(packOptions.pack()).threads(1).shutdownGraceMillis(1000)
                .tls(io.cleave.core.security.Tls.fromDirectory(certs, "worker")).build() : null;
        try (WorkerServer worker = WorkerServer.start(wc); WorkerServer tlsWorker = tls ? WorkerServer.start(twc) : null;
                RawSink sink = new RawSink()) {
            ManagedChannel ch = WorkerClient.channelBuilder("127.0.0.1:" + worker.port()).build();
            ManagedChannel tch = tls ? WorkerClient.channelBuilder("127.0.0.1:" + tlsWorker.port(), null,
                    io.cleave.core.security.Tls.fromDirectory(certs, "edge")).build() : null;
            try {
                // both paths run until the JIT has settled (gRPC's path is far longer than a socket's)
                long warmStart = System.nanoTime();
                long warmEnd = warmStart + TimeUnit.SECONDS.toNanos(warmupSeconds);
                try (Progress bar = Progress.bar("warm-up, s", warmupSeconds)) {
                    while (System.nanoTime() < warmEnd) {
                        grpcRound(ch, payload, requests, inflight);
                        rawRound(sink.port, payload, requests, inflight);
                        if (tls) {
                            grpcRound(tch, payload, requests, inflight);
                        }
                        bar.stepTo(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - warmStart));
                    }
                }
                try (Progress bar = Progress.bar("rounds", rounds)) {
                    for (int r = 0; r < rounds; r++) {
                        grpc[r] = grpcRound(ch, payload, requests, inflight);
                        raw[r] = rawRound(sink.port, payload, requests, inflight);
                        if (tls) {
                            secure[r] = grpcRound(tch, payload, requests, inflight);
                        }
                        bar.step();
                    }
                }
            } finally {
                ch.shutdownNow();
                if (tch != null) {
                    tch.shutdownNow();
                }
            }
        } finally {
            if (certs != null) {
                try (var files = java.nio.file.Files.list(certs)) {
                    for (java.nio.file.Path f : files.toList()) {
                        java.nio.file.Files.delete(f);
                    }
                }
                java.nio.file.Files.delete(certs);
            }
        }
        double g = median(grpc);
        double t = median(raw);
        // rounds are paired (run back to back), so the per-round ratio cancels drift in the machine's load
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ratios[r] = grpc[r] / raw[r];
        }
        double ratio = median(ratios);
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("trained", pack.trained());
            out.put("tensorBytes", payload.length);
            out.put("requests", requests);
            out.put("inflight", inflight);
            out.put("grpcMBps", g);
            out.put("rawTcpMBps", t);
            out.put("ratio", ratio);
            out.put("ratioMin", sorted[0]);
            out.put("ratioMax", sorted[rounds - 1]);
            out.put("grpcMBpsPerRound", grpc);
            out.put("rawTcpMBpsPerRound", raw);
            if (tls) {
                out.put("grpcTlsMBps", median(secure));
                out.put("tlsOverPlaintext", median(tlsRatios(secure, grpc)));
                out.put("grpcTlsMBpsPerRound", secure);
            }
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
        } else {
            Untrained.print(System.out, pack);
            System.out.printf("token streaming goodput, %dx%d fp32 = %d bytes per request, %d in flight, %d requests x %d rounds (median)%n",
                    tokens, dim, payload.length, inflight, requests, rounds);
            System.out.printf("%-34s %10.1f MB/s%n", "cleave gRPC stream (chunks " + CloudCall.CHUNK_BYTES / 1024 + " KiB)", g);
            System.out.printf("%-34s %10.1f MB/s%n", "raw TCP socket", t);
            System.out.printf("ratio gRPC/raw: %.2fx (median of per-round ratios; rounds %.2fx to %.2fx)%n", ratio, sorted[0], sorted[rounds - 1]);
            if (tls) {
                double[] tr = tlsRatios(secure, grpc);
                double[] trs = tr.clone();
                Arrays.sort(trs);
                System.out.printf("%-34s %10.1f MB/s%n", "cleave gRPC stream, mutual TLS", median(secure));
                System.out.printf("ratio TLS/plaintext gRPC: %.2fx (median of per-round ratios; rounds %.2fx to %.2fx)%n", median(tr), trs[0],
                        trs[rounds - 1]);
            }
        }
        return 0;
    }

    private static double[] tlsRatios(double[] secure, double[] plain) {
        double[] r = new double[plain.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = secure[i] / plain[i];
        }
        return r;
    }

    /** MB/s: one Probe stream per tensor, chunks written as flow control allows, up to {@code inflight} streams at once. */
    static double grpcRound(ManagedChannel ch, byte[] payload, int n, int inflight) throws Exception {
        InferenceWorkerGrpc.InferenceWorkerStub stub = InferenceWorkerGrpc.newStub(ch).withOnReadyThreshold(DataPlane.FLOW_CONTROL_WINDOW);
        java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(inflight);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            window.acquire();
            CompletableFuture<ProbeReply> done = new CompletableFuture<>();
            done.whenComplete((r, err) -> {
                if (err != null) {
                    failure.set(err);
                } else if (r.getBytes() != payload.length) {
                    failure.set(new IllegalStateException("probe lost bytes"));
                }
                window.release();
            });
            var sender = new ClientResponseObserver<TensorChunk, ProbeReply>() {
                PayloadWriter<TensorChunk> writer;

                @Override
                public void beforeStart(ClientCallStreamObserver<TensorChunk> req) {
                    // written exactly as CloudCall writes an Infer payload
                    writer = new PayloadWriter<>(req, null, payload, CloudCall.CHUNK_BYTES,
                            (p, off, n) -> TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(p, off, n)).build());
                    req.setOnReadyHandler(() -> writer.pump(0));
                }

                @Override
                public void onNext(ProbeReply r) {
                    done.complete(r);
                }

                @Override
                public void onError(Throwable t) {
                    done.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                }
            };
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).probe(sender);
            sender.writer.pump(DataPlane.FLOW_CONTROL_WINDOW);
        }
        window.acquire(inflight);
        window.release(inflight);
        if (failure.get() != null) {
            throw new IllegalStateException("gRPC stream failed", failure.get());
        }
        return (double) n * payload.length / ((System.nanoTime() - t0) / 1e9) / 1e6;
    }

    /** MB/s over one socket: length-prefixed tensors, each acknowledged, up to {@code inflight} unacknowledged. */
    static double rawRound(int port, byte[] payload, int n, int inflight) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
            DataInputStream in = new DataInputStream(s.getInputStream());
            java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(inflight);
            CompletableFuture<Void> acks = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        if (in.readLong() != payload.length) {
                            throw new IllegalStateException("raw sink lost bytes");
                        }
                        window.release();
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                window.acquire();
                out.writeInt(payload.length);
                out.write(payload);
                out.flush();
            }
            acks.get(60, TimeUnit.SECONDS);
            return (double) n * payload.length / ((System.nanoTime() - t0) / 1e9) / 1e6;
        }
    }

    /** Reads length-prefixed messages and acknowledges each with its size. */
    static final class RawSink implements AutoCloseable {
        final ServerSocket server;
        final int port;

        RawSink() throws Exception {
            server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
            port = server.getLocalPort();
            Thread t = new Thread(this::serve, "raw-sink");
            t.setDaemon(true);
            t.start();
        }

        void serve() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 16));
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    byte[] buf = new byte[1 << 16];
                    while (true) {
                        int len = in.readInt();
                        long got = 0;
                        while (got < len) {
                            int r = in.read(buf, 0, (int) Math.min(buf.length, len - got));
                            if (r < 0) {
                                throw new java.io.EOFException();
                            }
                            got += r;
                        }
                        out.writeLong(got);
                        out.flush();
                    }
                } catch (Exception e) {
                    // connection closed: wait for the next one
                }
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
