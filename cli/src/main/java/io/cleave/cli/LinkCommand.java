package io.cleave.cli;

import io.cleave.link.LinkProxy;
import io.cleave.link.Shaper;
import io.cleave.link.Trace;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A standalone emulated link: a loopback TCP proxy whose uplink replays a bandwidth trace. */
@Command(name = "link", mixinStandardHelpOptions = true,
        description = "Run an emulated link: a TCP proxy in front of a worker whose edge-to-worker direction replays a real "
                + "bandwidth trace (Mahimahi, two-column Mbps, or 5Gophers CSV) or a fixed rate. Point an edge's --worker at it.")
final class LinkCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1") String host;
    @Option(names = "--port", defaultValue = "0", description = "listen port; 0 picks a free one") int port;
    @Option(names = "--target", required = true, description = "worker host:port") String target;
    @Option(names = "--trace", description = "trace file replayed as the uplink, looping") Path trace;
    @Option(names = "--column", description = "5Gophers CSV column (default: the first *throughput_mbps)") String column;
    @Option(names = "--rate-mbps", description = "fixed uplink rate instead of a trace") Double rateMbps;

    @Override
    public Integer call() throws Exception {
        int colon = target.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--target must be host:port, got " + target);
        }
        try (LinkProxy link = new LinkProxy(host, port, new InetSocketAddress(target.substring(0, colon),
                Integer.parseInt(target.substring(colon + 1))))) {
            String shaping = "unshaped";
            if (trace != null) {
                Trace t = Trace.load(trace, column);
                link.shapeUplink(Shaper.trace(t, System.nanoTime()));
                shaping = String.format("trace %s (mean %.2f Mbps, period %.0f s)", t.name(), t.meanMbps(), t.periodMs() / 1e3);
            } else if (rateMbps != null) {
                link.shapeUplink(rateMbps * 125_000);
                shaping = rateMbps + " Mbps";
            }
            System.out.println("cleave link listening on " + host + ":" + link.port() + " -> " + target + ", uplink " + shaping);
            System.out.flush();
            new CountDownLatch(1).await();
        }
        return 0;
    }
}
