package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The proxy moves bytes faithfully, at the shaped rate, and can cut a link. */
class LinkProxyTest {
    /** A loopback sink that counts bytes and reports when it has {@code expect} of them. */
    static CompletableFuture<Long> sink(ServerSocket server, long expect) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                byte[] buf = new byte[65536];
                long got = 0;
                while (got < expect) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    got += n;
                }
                return got;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void shapedUplink_deliversAtTheConfiguredRateWithinAFewPercent() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            double rate = 2_000_000; // 2 MB/s
            link.shapeUplink(rate);
            long total = 1_000_000;
            CompletableFuture<Long> got = sink(server, total);
            long t0 = System.nanoTime();
            try (Socket s = new Socket("127.0.0.1", link.port()); OutputStream out = s.getOutputStream()) {
                byte[] chunk = new byte[10_000];
                for (long sent = 0; sent < total; sent += chunk.length) {
                    out.write(chunk);
                }
                out.flush();
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(total);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(total / seconds).isBetween(rate * 0.95, rate * 1.03);
        }
    }

    @Test
    void unshaped_passesBytesThrough() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            CompletableFuture<Long> got = sink(server, 5_000_000);
            try (Socket s = new Socket("127.0.0.1", link.port()); OutputStream out = s.getOutputStream()) {
                out.write(new byte[5_000_000]);
                out.flush();
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(5_000_000L);
            }
        }
    }

    @Test
    void cut_closesTheEdgesConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            CompletableFuture<Long> got = sink(server, Long.MAX_VALUE);
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write(new byte[100]);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (link.openChannels() < 2 && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                link.cut();
                s.setSoTimeout(5000);
                assertThat(new DataInputStream(s.getInputStream()).read()).isEqualTo(-1); // EOF: the link is gone
            }
            assertThat(got.get(5, TimeUnit.SECONDS)).isEqualTo(100L);
        }
    }

    @Test
    void shapedDownlink_deliversAtTheConfiguredRateWithinAFewPercent() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            double rate = 2_000_000;
            link.shapeDownlink(Shaper.rate(rate));
            int total = 1_000_000;
            CompletableFuture<Void> source = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(new byte[total]);
                    s.getOutputStream().flush();
                    while (s.getInputStream().read() >= 0) { // the proxy delivers what it holds even after this side closes
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write(1); // the proxy connects on the edge's first byte at the latest
                long t0 = System.nanoTime();
                new DataInputStream(s.getInputStream()).readFully(new byte[total]);
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertThat(total / seconds).isBetween(rate * 0.95, rate * 1.05);
            }
            source.get(5, TimeUnit.SECONDS);
        }
    }

    /** Reads {@code n} bytes from the link's target, noting when the last arrived. */
    private static CompletableFuture<byte[]> receive(ServerSocket server, int n, AtomicLong doneAt) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                byte[] b = s.getInputStream().readNBytes(n);
                doneAt.set(System.nanoTime());
                return b;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void rateStepUp_drainsTheBacklogQueuedOnTheSlowLinkAtTheNewRate_everyByteInOrder() throws Exception {
        // 50 kB/s, then 20 MB/s: what is left takes ~15 ms
        assertBacklogDrainsAfterStepUp(now -> Shaper.rate(50_000), now -> Shaper.rate(20_000_000), 5);
    }

    @Test
    void traceStepUp_drainsTheBacklogAtTheNewTrace() throws Exception {
        assertBacklogDrainsAfterStepUp(now -> Shaper.trace(Trace.constant("slow", 50_000), now),
                now -> Shaper.trace(Trace.constant("fast", 20_000_000), now), 6);
    }

    /** 300 kB queued on the slow shaper (6 s of backlog), then the fast one: every byte arrives, in order, within 1 s. */
    private static void assertBacklogDrainsAfterStepUp(java.util.function.LongFunction<Shaper> slow,
            java.util.function.LongFunction<Shaper> fast, long seed) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.shapeUplink(slow.apply(System.nanoTime()));
            byte[] sent = randomBytes(300_000, seed);
            AtomicLong doneAt = new AtomicLong();
            CompletableFuture<byte[]> got = receive(server, sent.length, doneAt);
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write(sent);
                Thread.sleep(500);
                long stepAt = System.nanoTime();
                link.shapeUplink(fast.apply(stepAt));
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(sent);
                // before the backlog drained at the new rate it kept the old one: 5.5 s more
                assertThat((doneAt.get() - stepAt) / 1e9).isLessThan(1.0);
            }
        }
    }

    @Test
    void rateStepDown_slowsTheBacklogToTheNewRate() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.shapeUplink(100_000); // 100 kB/s
            byte[] sent = randomBytes(100_000, 7); // 1 s at this rate
            AtomicLong doneAt = new AtomicLong();
            CompletableFuture<byte[]> got = receive(server, sent.length, doneAt);
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                long t0 = System.nanoTime();
                s.getOutputStream().write(sent);
                Thread.sleep(250); // about a quarter delivered
                link.shapeUplink(50_000); // the other ~75 kB take ~1.5 s instead of ~0.75 s
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(sent);
                assertThat((doneAt.get() - t0) / 1e9).isBetween(1.5, 2.2);
            }
        }
    }

    @Test
    void aFullQueue_stopsReadingFromTheSender_andLosesNothing() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.shapeUplink(1_000); // 1 kB/s: nothing of note drains during the test
            AtomicLong doneAt = new AtomicLong();
            // more than the queue and the proxy socket's receive buffer can hold together (autotuned up to tcp_rmem's max, 32 MiB here)
            int total = 40 << 20;
            CompletableFuture<byte[]> got = receive(server, total, doneAt);
            byte[] sent = randomBytes(total, 8);
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.setSendBufferSize(64 * 1024);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        s.getOutputStream().write(sent);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(1000);
                // the proxy holds at most its queue: the rest waits in TCP's buffers, so the write cannot finish
                assertThat(writer).isNotDone();
                link.shapeUplink(0); // unshaped: the queue and what TCP held flow on
                writer.get(10, TimeUnit.SECONDS);
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(sent);
            }
        }
    }

    /** Round trip of one byte through the link to an echo server, in ms. */
    private static double echoRoundTripMs(LinkProxy link) throws Exception {
        try (Socket s = new Socket("127.0.0.1", link.port())) {
            s.setTcpNoDelay(true);
            s.getOutputStream().write(7);
            assertThat(s.getInputStream().read()).isEqualTo(7); // connected and warm
            long t0 = System.nanoTime();
            s.getOutputStream().write(8);
            assertThat(s.getInputStream().read()).isEqualTo(8);
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static CompletableFuture<Void> echo(ServerSocket server) {
        return CompletableFuture.runAsync(() -> {
            try (Socket s = server.accept()) {
                s.setTcpNoDelay(true);
                for (int b; (b = s.getInputStream().read()) >= 0; ) {
                    s.getOutputStream().write(b);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void delay_addsToEachDirection() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.delay(java.time.Duration.ofMillis(40));
            echo(server);
            assertThat(echoRoundTripMs(link)).isBetween(80.0, 120.0);
        }
    }

    @Test
    void loss_delaysLostPacketsByTheRecoveryTimeAndLosesNoBytes() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.loss(1.0, java.time.Duration.ofMillis(50)); // every packet lost once: each way pays the recovery
            echo(server);
            assertThat(echoRoundTripMs(link)).isBetween(100.0, 150.0);
        }
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, new InetSocketAddress("127.0.0.1", server.getLocalPort()))) {
            link.loss(0.05, java.time.Duration.ofMillis(5));
            byte[] sent = new byte[300_000];
            new java.util.Random(3).nextBytes(sent);
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept()) {
                    byte[] b = new byte[sent.length];
                    new DataInputStream(s.getInputStream()).readFully(b);
                    return b;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write(sent);
                assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo(sent); // lossy, but TCP-like: every byte, in order
            }
        }
    }

    @Test
    void connectMode_carriesTrafficToTheRequestedTarget() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                LinkProxy link = new LinkProxy("127.0.0.1", 0, null)) {
            echo(server);
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                        java.nio.charset.StandardCharsets.US_ASCII));
                assertThat(r.readLine()).isEqualTo("HTTP/1.1 200 Connection established");
                assertThat(r.readLine()).isEmpty();
                s.getOutputStream().write('k');
                assertThat(r.read()).isEqualTo('k');
            }
            try (Socket s = new Socket("127.0.0.1", link.port())) {
                s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream())).readLine())
                        .isEqualTo("HTTP/1.1 405 Method Not Allowed");
            }
        }
    }
}
