package io.cleave.core.net;

/** Transport settings both ends of the edge–worker data plane must agree on. */
public final class DataPlane {
    private DataPlane() {}

    /**
     * HTTP/2 flow-control window per stream, on the worker and on every edge channel, and the
     * edge's on-ready threshold: a whole token tensor (a ViT-S 197x384 fp32 tensor is 296 KiB) is
     * in flight without waiting for a window update, and the edge hands it to gRPC in one go.
     */
    public static final int FLOW_CONTROL_WINDOW = 4 << 20;
}
