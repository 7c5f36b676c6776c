package io.cleave.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on loopback standing in for the network between an edge and a worker. It can be
 * cut (every connection closed at once, as when a radio link drops) and stalled (bytes stop
 * moving while connections stay open, as in a dead zone). Only forwards to the target it was
 * given, which callers keep on loopback or inside the project's own namespaces.
 */
public final class LinkProxy implements AutoCloseable {
    /** Granularity of shaped delivery, in bytes. */
    static final int SHAPED_PIECE = 4096;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();
    private final InetSocketAddress target;
    private final Channel server;
    private volatile boolean stalled;
    private volatile Shaper uplink; // edge -> worker; null: unshaped

    public LinkProxy(String listenHost, int listenPort, InetSocketAddress target) throws InterruptedException {
        this.target = target;
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel inbound) {
                        inbound.pipeline().addLast(new Inbound());
                    }
                })
                .bind(listenHost, listenPort).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Closes every open connection now; new ones are still accepted. */
    public void cut() {
        for (Channel c : open) {
            c.close();
        }
    }

    /** Stops (or resumes) moving bytes in both directions, keeping connections open. */
    public void stall(boolean on) {
        stalled = on;
        for (Channel c : open) {
            c.config().setAutoRead(!on);
            if (!on) {
                c.read();
            }
        }
    }

    /**
     * Limits the edge-to-worker direction to {@code bytesPerSecond} from now on (0 removes the
     * limit): each buffer is delivered when the link would have finished sending it, in order.
     */
    public void shapeUplink(double bytesPerSecond) {
        uplink = bytesPerSecond <= 0 ? null : Shaper.rate(bytesPerSecond);
    }

    /** Shapes the edge-to-worker direction with {@code shaper} (e.g. a trace replay); null removes shaping. */
    public void shapeUplink(Shaper shaper) {
        uplink = shaper;
    }

    /** Connections open now (each proxied connection counts twice: both sides). */
    public int openChannels() {
        return open.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        cut();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private record Pending(long atNanos, ByteBuf piece) {}

    private final class Inbound extends ChannelInboundHandlerAdapter {
        private Channel outbound;
        // shaped pieces not yet delivered, in arrival order; touched only on this channel's event loop
        private final java.util.ArrayDeque<Pending> pending = new java.util.ArrayDeque<>();
        private boolean pumpScheduled;

        /** Delivers every piece whose time has come, in order, then waits for the next one's time. */
        private void pump(Channel in) {
            long now = System.nanoTime();
            while (!pending.isEmpty() && pending.peekFirst().atNanos() - now <= 0) {
                relay(in, outbound, pending.pollFirst().piece());
            }
            if (!pending.isEmpty() && !pumpScheduled) {
                pumpScheduled = true;
                in.eventLoop().schedule(() -> {
                    pumpScheduled = false;
                    pump(in);
                }, pending.peekFirst().atNanos() - now, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel in = ctx.channel();
            open.add(in);
            new Bootstrap()
                    .group(in.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new Relay(in))
                    .connect(target)
                    .addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            outbound = f.channel();
                            open.add(outbound);
                            if (!stalled) {
                                in.config().setAutoRead(true);
                                outbound.config().setAutoRead(true);
                            }
                        } else {
                            in.close();
                        }
                    });
            in.closeFuture().addListener(f -> open.remove(in));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Shaper shaper = uplink;
            ByteBuf data = (ByteBuf) msg;
            if (shaper == null) {
                relay(ctx.channel(), outbound, data);
                return;
            }
            long now = System.nanoTime();
            // packet-sized pieces, each delivered when the link would have carried it, strictly in order
            while (data.isReadable()) {
                ByteBuf piece = data.readRetainedSlice(Math.min(SHAPED_PIECE, data.readableBytes()));
                pending.addLast(new Pending(shaper.deliver(now, piece.readableBytes()), piece));
            }
            data.release();
            pump(ctx.channel());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            pending.forEach(p -> p.piece().release());
            pending.clear();
            if (outbound != null) {
                outbound.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel inbound;

        Relay(Channel inbound) {
            this.inbound = inbound;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().closeFuture().addListener(f -> open.remove(ctx.channel()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            relay(ctx.channel(), inbound, (ByteBuf) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inbound.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Forwards one buffer; a failed write closes the source side too. */
    private void relay(Channel from, Channel to, ByteBuf data) {
        if (to == null || !to.isActive()) {
            data.release();
            from.close();
            return;
        }
        to.writeAndFlush(data).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                from.close();
            }
        });
    }
}
