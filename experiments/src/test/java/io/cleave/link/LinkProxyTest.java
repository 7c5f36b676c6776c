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
}
