package io.cleave.core.engine;

/**
 * How ONNX Runtime sessions are built.
 *
 * @param intraOpThreads threads inside one operator; 1 runs every graph on the calling thread
 * @param spinning whether idle intra-op threads spin (lower latency, burns CPU between runs)
 * @param maxBlock load only blocks 1..maxBlock (and exits within them); the edge's k_max.
 *     0 or less loads every block
 */
public record EngineOptions(int intraOpThreads, boolean spinning, int maxBlock) {
    public EngineOptions {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        }
    }

    public static EngineOptions defaults() {
        return new EngineOptions(1, false, 0);
    }

    public EngineOptions withThreads(int threads) {
        return new EngineOptions(threads, spinning, maxBlock);
    }

    public EngineOptions withMaxBlock(int block) {
        return new EngineOptions(intraOpThreads, spinning, block);
    }
}
