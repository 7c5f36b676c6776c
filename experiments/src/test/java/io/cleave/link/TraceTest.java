package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The shared real traces parse to the statistics their README gives, and the proxy replays them faithfully. */
class TraceTest {
    static Path traces() {
        Path p = Path.of(System.getProperty("cleave.traces", "../../shared/traces"));
        assumeTrue(Files.isDirectory(p), "shared traces not found at " + p.toAbsolutePath() + " (they ship beside the repository)");
        return p;
    }

    @Test
    void everyFormat_parsesToTheReadmesMeanThroughput() throws Exception {
        Path t = traces();
        // README: mean Mbps = lines x 1500 B x 8 / duration for Mahimahi, the sample mean otherwise
        assertThat(Trace.load(t.resolve("3g/mahimahi/TMobile-UMTS-driving.up")).meanMbps()).isCloseTo(0.94, within(0.01));
        assertThat(Trace.load(t.resolve("4g-lte/mahimahi/TMobile-LTE-short.up")).meanMbps()).isCloseTo(13.32, within(0.02));
        assertThat(Trace.load(t.resolve("5g/lumos5g/5g_trace_1_driving")).meanMbps()).isCloseTo(306.10, within(0.05));
        assertThat(Trace.load(t.resolve("broadband/fcc/trace_866_http---www.amazon.com")).meanMbps()).isCloseTo(2.62, within(0.01));
        assertThat(Trace.load(t.resolve("5g/5gophers/walking-trace.csv")).meanMbps()).isCloseTo(332.9, within(0.1));
        Trace verizon = Trace.load(t.resolve("5g/5gophers/car-driving-trace-1.csv"), "Verizon_throughput_mbps");
        assertThat(verizon.periodMs()).isEqualTo(126_000); // seq 0..125, six missing seconds held
    }

    @Test
    void lumosSamples_coverTheSecondBeforeTheirTimestamp() throws Exception {
        Trace lumos = Trace.load(traces().resolve("5g/lumos5g/5g_trace_1_driving"));
        // first line "1.0\t78.0": 78 Mbps = 9750 bytes in each millisecond of [0, 1000)
        assertThat(lumos.bytesAt(0)).isEqualTo(9750);
        assertThat(lumos.bytesBetween(0, 1000)).isEqualTo(9_750_000);
        assertThat(lumos.bytesBetween(1000, 2000)).isEqualTo(117 * 125_000);
    }

    /** Order through a bursty trace; the reordering once seen in experiments did not reproduce here, this guards the property. */
    @Test
    void traceShapedLink_keepsEveryByteInOrder() throws Exception {
        Trace umts = Trace.load(traces().resolve("3g/mahimahi/TMobile-UMTS-driving.up")); // bursty 1500-byte opportunities
        byte[] sent = new byte[150_000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 31 + i / 251);
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.shapeUplink(Shaper.trace(umts, System.nanoTime()));
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    return s.getInputStream().readNBytes(sent.length);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket s = new Socket("127.0.0.1", link.port()); OutputStream out = s.getOutputStream()) {
                for (int off = 0; off < sent.length; off += 700) { // many small writes, as HTTP/2 frames are
                    out.write(sent, off, Math.min(700, sent.length - off));
                    out.flush();
                }
                assertThat(got.get(20, TimeUnit.SECONDS)).isEqualTo(sent);
            }
        }
    }

    @Test
    void proxyReplayingARealUplinkTrace_deliversOnTheTracesScheduleWithinAFewPercent() throws Exception {
        Trace lte = Trace.load(traces().resolve("4g-lte/mahimahi/TMobile-LTE-short.up"));
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            AtomicLong received = new AtomicLong();
            CompletableFuture<Void> sink = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    byte[] buf = new byte[8192];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        received.addAndGet(n);
                    }
                } catch (Exception e) {
                    // closed at the end
                }
            });
            try (Socket s = new Socket("127.0.0.1", link.port()); OutputStream out = s.getOutputStream()) {
                long start = System.nanoTime();
                link.shapeUplink(Shaper.trace(lte, start));
                // far more than the trace delivers in 3 s: always backlogged. The link's queue is bounded, so the
                // write blocks once it and TCP's buffers are full: it runs beside the measurement
                CompletableFuture.runAsync(() -> {
                    try {
                        out.write(new byte[12_000_000]);
                        out.flush();
                    } catch (java.io.IOException closedAtTheEnd) {
                        // the test is over
                    }
                });
                // once the link is backlogged, every second delivers what the trace says it can
                long[] at = {1000, 2000, 3000};
                long[] got = new long[at.length];
                for (int k = 0; k < at.length; k++) {
                    TimeUnit.NANOSECONDS.sleep(Math.max(0, start + TimeUnit.MILLISECONDS.toNanos(at[k]) - System.nanoTime()));
                    got[k] = received.get();
                }
                for (int k = 1; k < at.length; k++) {
                    long expected = lte.bytesBetween(at[k - 1], at[k]);
                    assertThat((double) (got[k] - got[k - 1])).as("bytes delivered in [%d, %d) ms", at[k - 1], at[k])
                            .isCloseTo(expected, within(expected * 0.05));
                }
            }
            sink.cancel(true);
        }
    }
}
