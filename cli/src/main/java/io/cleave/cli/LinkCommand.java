package io.cleave.cli;

import io.cleave.core.net.HostPort;
import io.cleave.link.LinkConditions;
import io.cleave.link.LinkProxy;
import io.cleave.link.Shaper;
import io.cleave.link.Trace;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A standalone emulated link: a TCP proxy whose two directions replay bandwidth traces. */
@Command(name = "link", mixinStandardHelpOptions = true,
        description = "Run an emulated link: a TCP proxy whose edge-to-worker (uplink) and worker-to-edge (downlink) directions "
                + "replay real bandwidth traces (Mahimahi, two-column Mbps, or 5Gophers CSV) or fixed rates, with optional delay, "
                + "loss and outages. With --target it forwards to one worker (point an edge's --worker at it); without, it is an "
                + "HTTP CONNECT proxy (point an edge's --via at it and it carries traffic to any worker).")
final class LinkCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "${env:CLEAVE_LINK_HOST:-127.0.0.1}",
            description = "listen address (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_HOST)") String host;
    @Option(names = "--port", defaultValue = "${env:CLEAVE_LINK_PORT:-0}",
            description = "listen port; 0 picks a free one (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_PORT)") int port;
    @Option(names = "--target", defaultValue = "${env:CLEAVE_LINK_TARGET}", description = "worker host:port to forward to "
            + "(default: none, act as an HTTP CONNECT proxy; env CLEAVE_LINK_TARGET)") String target;
    @Option(names = "--trace", defaultValue = "${env:CLEAVE_LINK_TRACE}",
            description = "trace file replayed as the uplink, looping (default: none; env CLEAVE_LINK_TRACE)") Path trace;
    @Option(names = "--downlink-trace", defaultValue = "${env:CLEAVE_LINK_DOWNLINK_TRACE}",
            description = "trace file replayed as the downlink, looping (default: none; env CLEAVE_LINK_DOWNLINK_TRACE)") Path downTrace;
    @Option(names = "--column", defaultValue = "${env:CLEAVE_LINK_COLUMN}",
            description = "5Gophers CSV column (default: the first *throughput_mbps; env CLEAVE_LINK_COLUMN)") String column;
    @Option(names = "--rate-mbps", defaultValue = "${env:CLEAVE_LINK_RATE_MBPS}",
            description = "fixed uplink rate instead of a trace (default: none; env CLEAVE_LINK_RATE_MBPS)") Double rateMbps;
    @Option(names = "--downlink-rate-mbps", defaultValue = "${env:CLEAVE_LINK_DOWNLINK_RATE_MBPS}",
            description = "fixed downlink rate instead of a trace (default: none; env CLEAVE_LINK_DOWNLINK_RATE_MBPS)") Double downRateMbps;
    @Option(names = "--seed", defaultValue = "${env:CLEAVE_LINK_SEED:-1}",
            description = "seed of the loss pattern (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_SEED)") long seed;
    @Mixin LinkConditionOptions conditions = new LinkConditionOptions();

    @Mixin LogOptions logs = new LogOptions();

    @Override
    public Integer call() throws Exception {
        logs.apply();
        InetSocketAddress to = null;
        if (target != null) {
            InetSocketAddress t = HostPort.parse(target, "--target");
            to = new InetSocketAddress(t.getHostString(), t.getPort());
        }
        LinkConditions c = conditions.conditions();
        try (LinkProxy link = new LinkProxy(host, port, to, seed)) {
            long start = System.nanoTime();
            Direction up = direction(trace, rateMbps, start);
            Direction down = direction(downTrace, downRateMbps, start);
            c.apply(link, up.shaper(), down.shaper(), start);
            System.out.println("cleave link listening on " + host + ":" + link.port() + " -> " + (target != null ? target : "CONNECT targets")
                    + ", uplink " + up.description() + ", downlink " + down.description() + ", " + c.describe());
            System.out.flush();
            new CountDownLatch(1).await();
        }
        return 0;
    }

    /** One direction's shaper (null: unshaped) and how the startup line describes it. */
    private record Direction(Shaper shaper, String description) {}

    private Direction direction(Path file, Double mbps, long start) throws java.io.IOException {
        if (mbps != null && !(mbps > 0)) {
            throw new IllegalArgumentException((mbps == rateMbps ? "--rate-mbps" : "--downlink-rate-mbps") + " must be positive, got " + mbps);
        }
        if (file != null && mbps != null) {
            throw new IllegalArgumentException("give a trace or a fixed rate for a direction, not both");
        }
        if (file != null) {
            Trace t = Trace.load(file, column);
            return new Direction(Shaper.trace(t, start), String.format(java.util.Locale.ROOT, "trace %s (mean %.2f Mbps, period %.0f s)",
                    t.name(), t.meanMbps(), t.periodMs() / 1e3));
        }
        return mbps == null ? new Direction(null, "unshaped") : new Direction(Shaper.rate(mbps * 125_000), mbps + " Mbps");
    }
}
