package io.cleave.edge.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A worker that crashes and comes back on its port: the edge dials it again on a short period, not on gRPC's growing backoff. */
class WorkerClientRedialTest {
    @Test
    void lostWorker_isDialledEveryPeriod_andReachedSoonAfterItListensAgain() throws Exception {
        Server worker = serve(0);
        int port = worker.getPort();
        try (WorkerClient client = new WorkerClient(List.of("127.0.0.1:" + port))) {
            assertThat(client.connect(5_000)).isEqualTo(1);
            ManagedChannel channel = client.channels().get(0);
            worker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

            // for 5 s the port accepts and hangs up at once (a process that is not a worker yet): every dial is one accept
            AtomicInteger dials = new AtomicInteger();
            long downNanos = TimeUnit.SECONDS.toNanos(5);
            try (ServerSocket broken = bind(port)) {
                Thread acceptor = new Thread(() -> {
                    while (!broken.isClosed()) {
                        try (Socket s = broken.accept()) {
                            dials.incrementAndGet();
                        } catch (IOException closed) {
                            return;
                        }
                    }
                });
                acceptor.start();
                long until = System.nanoTime() + downNanos;
                while (System.nanoTime() < until) {
                    channel.getState(true); // requests keep arriving
                    Thread.sleep(50);
                }
            }
            // gRPC's own backoff (1 s, x1.6 per failure, +-20%) dials about 4 times in 5 s; every 250 ms is about 20
            assertThat(dials.get()).as("dials while the worker was down").isGreaterThanOrEqualTo(10);

            worker = serve(port);
            long listening = System.nanoTime();
            while (channel.getState(true) != ConnectivityState.READY && System.nanoTime() - listening < TimeUnit.SECONDS.toNanos(10)) {
                Thread.sleep(10);
            }
            double seconds = (System.nanoTime() - listening) / 1e9;
            assertThat(channel.getState(false)).isEqualTo(ConnectivityState.READY);
            assertThat(seconds).as("seconds from listening again to connected").isLessThan(2.0);
        } finally {
            worker.shutdownNow();
        }
    }

    private static Server serve(int port) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                        .addService(new HealthStatusManager().getHealthService()).build().start();
            } catch (IOException bindFailed) {
                if (System.nanoTime() > until) {
                    throw bindFailed;
                }
                Thread.sleep(50); // the port is released a moment after the old socket closes
            }
        }
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress("127.0.0.1", port));
        return s;
    }
}
