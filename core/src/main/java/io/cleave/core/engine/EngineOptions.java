package io.cleave.core.engine;

/**
 * How ONNX Runtime sessions are built.
 *
 * @param intraOpThreads threads inside one operator; 1 runs every graph on the calling thread
 * @param spinning whether idle intra-op threads spin (lower latency, burns CPU between runs)
 * @param maxBlock load only blocks 1..maxBlock (and exits within them); the edge's k_max.
 *     0 or less loads every block
 * @param device where the sessions run ({@link ComputeDevice}); the CPU unless a worker is told otherwise
 * @param probes whether to load a reducible pack's probe graphs (the edge reduces tokens with them; a worker never does)
 */
public record EngineOptions(int intraOpThreads, boolean spinning, int maxBlock, ComputeDevice device, boolean probes) {
    public EngineOptions {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        }
        if (device == null) {
            throw new IllegalArgumentException("device must be given");
        }
    }

    public static EngineOptions defaults() {
        return new EngineOptions(1, false, 0, ComputeDevice.CPU, true);
    }

    public EngineOptions withThreads(int threads) {
        return new EngineOptions(threads, spinning, maxBlock, device, probes);
    }

    public EngineOptions withMaxBlock(int block) {
        return new EngineOptions(intraOpThreads, spinning, block, device, probes);
    }

    public EngineOptions withDevice(ComputeDevice on) {
        return new EngineOptions(intraOpThreads, spinning, maxBlock, on, probes);
    }

    /** Without the probe graphs: for a worker, which receives tokens already reduced. */
    public EngineOptions withoutProbes() {
        return new EngineOptions(intraOpThreads, spinning, maxBlock, device, false);
    }
}
