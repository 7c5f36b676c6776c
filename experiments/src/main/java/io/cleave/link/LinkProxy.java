package io.cleave.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy standing in for the network between an edge and its workers. Each direction can be
 * shaped (a fixed rate, a trace replay, outages: see {@link Shaper}), delayed (one-way propagation)
 * and lossy; the whole link can be cut (every connection closed at once, as when a radio link drops)
 * and stalled (bytes stop moving while connections stay open, as in a dead zone).
 *
 * <p>Either it forwards to one fixed target, or (target null) it is an HTTP CONNECT proxy, so that an
 * edge whose channels use it as their proxy reaches whichever worker its coordinator assigns through
 * the same emulated link. It only ever connects where it is told: callers keep both on loopback or
 * inside the project's own namespaces and containers.
 *
 * <p>Each direction is one {@link Bottleneck} shared by its connections: bytes queue in arrival order
 * and drain at the pace of the shaper current while they are sent, so a backlog built up on a slow
 * link leaves at the new rate once the link speeds up. The queue is bounded: past
 * {@link #QUEUE_BYTES} the proxy stops reading from the senders, whose TCP then holds the rest.
 *
 * <p>Loss is emulated above TCP, which the proxy terminates: each 1500-byte packet is lost with the
 * configured probability and the piece holding it arrives one recovery time late, holding back the
 * bytes behind it (TCP's head-of-line blocking); nothing is dropped or reordered.
 */
public final class LinkProxy implements AutoCloseable {
    /** Granularity of shaped delivery, in bytes. */
    static final int SHAPED_PIECE = 4096;
    static final int PACKET = 1500;
    /** Bytes one direction's queue holds before the proxy stops reading from its senders. */
    static final long QUEUE_BYTES = 1 << 20;
    private static final int MAX_CONNECT_HEADER = 8192;
    private static final Pattern CONNECT = Pattern.compile("^CONNECT ([^\\s:]+|\\[[^\\]]+\\]):(\\d+) HTTP/1\\.[01]\r\n");

    // normal priority: Netty's default is MAX_PRIORITY, which under -XX:ThreadPriorityPolicy=1 (every JVM Cleave starts) is
    // nice -5, level with an in-process edge's deadline timer, and an emulated link must never delay the device's deadlines
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new io.netty.util.concurrent.DefaultThreadFactory("cleave-link", true, Thread.NORM_PRIORITY), NioIoHandler.newFactory());
    private final EventLoop loop = group.next(); // the only one: every channel, queue and timer lives on it
    private final Link upQueue = new Link(true);
    private final Link downQueue = new Link(false);
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();
    private final Set<Direction> directions = ConcurrentHashMap.newKeySet();
    private final InetSocketAddress target;
    private final Channel server;
    private final AtomicLong connections = new AtomicLong();
    private final long seed;
    private volatile boolean stalled;
    private volatile Shaper uplink; // edge -> worker; null: unshaped
    private volatile Shaper downlink; // worker -> edge; null: unshaped
    private volatile long delayNanos; // one way, each direction
    private volatile double loss; // per packet, each direction
    private volatile long lossRecoveryNanos;

    /** A proxy to one fixed {@code target}, or, with a null target, an HTTP CONNECT proxy. */
    public LinkProxy(String listenHost, int listenPort, InetSocketAddress target) throws InterruptedException {
        this(listenHost, listenPort, target, 1);
    }

    /** As above; {@code seed} makes the loss pattern reproducible. */
    public LinkProxy(String listenHost, int listenPort, InetSocketAddress target, long seed) throws InterruptedException {
        this.target = target;
        this.seed = seed;
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
            io.netty.channel.ChannelFuture closed = c.close();
            if (!loop.inEventLoop()) {
                closed.syncUninterruptibly(); // cut when this returns: nothing sent after it crosses an old connection
            }
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
     * limit): each buffer is delivered when the link would have finished sending it, in order. Bytes
     * already queued drain at the new rate.
     */
    public void shapeUplink(double bytesPerSecond) {
        shapeUplink(bytesPerSecond <= 0 ? null : Shaper.rate(bytesPerSecond));
    }

    /**
     * Shapes the edge-to-worker direction with {@code shaper} (e.g. a trace replay) from now on, bytes
     * already queued included; null removes shaping.
     */
    public void shapeUplink(Shaper shaper) {
        uplink = shaper;
        reshaped(upQueue);
    }

    /** Shapes the worker-to-edge direction (results), as {@link #shapeUplink(Shaper)} does the other; null removes shaping. */
    public void shapeDownlink(Shaper shaper) {
        downlink = shaper;
        reshaped(downQueue);
    }

    /** Re-times the piece being sent now under the new shaper (the ones behind it are timed as they reach the head). */
    private void reshaped(Link queue) {
        try {
            loop.execute(queue::advance);
        } catch (RejectedExecutionException closed) {
            // the proxy is closed: nothing left to re-time
        }
    }

    /** Adds {@code oneWay} propagation delay to each direction (a round trip gains twice that). */
    public void delay(Duration oneWay) {
        delayNanos = oneWay.toNanos();
    }

    /**
     * Loses each packet with probability {@code perPacket} in each direction; a lost packet arrives
     * {@code recovery} late (TCP's retransmission), holding back what follows it.
     */
    public void loss(double perPacket, Duration recovery) {
        if (perPacket < 0 || perPacket > 1) {
            throw new IllegalArgumentException("loss must be a probability in [0, 1], got " + perPacket);
        }
        lossRecoveryNanos = recovery.toNanos();
        loss = perPacket;
    }

    /** Connections open now (each proxied connection counts twice: both sides). */
    public int openChannels() {
        return open.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        cut();
        // pieces still waiting for their delivery time would outlive the event loop: free them on it
        group.submit(() -> {
            upQueue.discard();
            downQueue.discard();
            directions.forEach(Direction::discard);
        }).syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private record Pending(long atNanos, ByteBuf piece) {}

    private record Sent(Direction direction, ByteBuf piece) {}

    /**
     * One direction of the whole link: the {@link Bottleneck} its connections share, driven by the
     * event loop's clock. Past {@link #QUEUE_BYTES} queued it stops reading from the connections that
     * fill it, and reads again once half of that has drained.
     */
    private final class Link {
        private final boolean up;
        private final Bottleneck<Sent> queue = new Bottleneck<>();
        private final Set<Direction> paused = new HashSet<>();
        private ScheduledFuture<?> wake;
        private long wakeAt;

        Link(boolean up) {
            this.up = up;
        }

        Shaper shaper() {
            return up ? uplink : downlink;
        }

        void enqueue(Direction d, ByteBuf piece, long now) {
            d.inLink++;
            queue.add(new Sent(d, piece), piece.readableBytes(), now);
        }

        /** Passes on every piece the link has finished sending, then waits for the one it is sending. */
        void advance() {
            long now = System.nanoTime();
            long next = queue.advance(now, shaper(), (s, end) -> s.direction().arrive(s.piece(), end));
            if (!paused.isEmpty() && queue.queuedBytes() <= QUEUE_BYTES / 2) {
                paused.forEach(Direction::resume);
                paused.clear();
            }
            if (next != Long.MAX_VALUE && (wake == null || next < wakeAt)) {
                if (wake != null) {
                    wake.cancel(false);
                }
                wakeAt = next;
                wake = loop.schedule(() -> {
                    wake = null;
                    advance();
                }, next - now, TimeUnit.NANOSECONDS);
            }
        }

        /** A full queue stops reading from {@code d}'s sender. */
        void pushBack(Direction d) {
            if (queue.queuedBytes() > QUEUE_BYTES) {
                paused.add(d);
                d.from.config().setAutoRead(false); // again if stall(false) turned it on meanwhile
            }
        }

        void discard() {
            queue.clear(s -> s.piece().release());
            if (wake != null) {
                wake.cancel(false);
                wake = null;
            }
        }
    }

    /**
     * One direction of one connection: its pieces go through the link's shared queue, then wait out
     * the propagation delay and any loss recovery and leave strictly in order. Touched only on the
     * event loop.
     */
    private final class Direction {
        private final boolean up;
        private final Channel from;
        private Channel to;
        private final ArrayDeque<Pending> pending = new ArrayDeque<>();
        private final SplittableRandom random;
        private int inLink; // pieces still in the link's queue
        private boolean pumpScheduled;
        private boolean closeWhenDrained;
        private boolean discarded;

        /** {@code connection}: the connection's number, which with the proxy's seed fixes this direction's loss pattern. */
        Direction(boolean up, Channel from, long connection) {
            this.up = up;
            this.from = from;
            this.random = new SplittableRandom(seed * 31 + 2 * connection + (up ? 0 : 1));
            directions.add(this); // until it is finished and drained (or discarded)
        }

        void send(ByteBuf data) {
            Link link = up ? upQueue : downQueue;
            if (link.shaper() == null && delayNanos == 0 && loss == 0 && pending.isEmpty() && inLink == 0) {
                relay(from, to, data);
                return;
            }
            long now = System.nanoTime();
            // packet-sized pieces into the link's queue, which times each as it reaches the head
            while (data.isReadable()) {
                link.enqueue(this, data.readRetainedSlice(Math.min(SHAPED_PIECE, data.readableBytes())), now);
            }
            data.release();
            link.advance();
            link.pushBack(this);
        }

        /** The link has finished sending {@code piece} at {@code sentAt}: it arrives after the delay and any loss recovery. */
        void arrive(ByteBuf piece, long sentAt) {
            inLink--;
            if (discarded) {
                piece.release();
                return;
            }
            long at = sentAt + delayNanos;
            double p = loss;
            if (p > 0) {
                int packets = (piece.readableBytes() + PACKET - 1) / PACKET;
                for (int i = 0; i < packets; i++) {
                    if (random.nextDouble() < p) {
                        at += lossRecoveryNanos;
                    }
                }
            }
            pending.addLast(new Pending(at, piece));
            pump();
        }

        /** Reads from the sender again once the link's queue has room (unless the whole link is stalled). */
        void resume() {
            if (!stalled && from.isActive()) {
                from.config().setAutoRead(true);
            }
        }

        /** Delivers every piece whose time has come, in order, then waits for the next one's time. */
        private void pump() {
            if (discarded) {
                return;
            }
            if (closeWhenDrained && (to == null || !to.isActive())) { // nowhere left to deliver: free what the link holds
                discard();
                return;
            }
            long now = System.nanoTime();
            while (!pending.isEmpty() && pending.peekFirst().atNanos() - now <= 0) {
                relay(from, to, pending.pollFirst().piece());
            }
            if (pending.isEmpty() && inLink == 0 && closeWhenDrained) {
                directions.remove(this);
                if (to != null) {
                    to.close();
                }
            }
            if (!pending.isEmpty() && !pumpScheduled) {
                pumpScheduled = true;
                from.eventLoop().schedule(() -> {
                    pumpScheduled = false;
                    pump();
                }, pending.peekFirst().atNanos() - now, TimeUnit.NANOSECONDS);
            }
        }

        /** Frees what waits for delivery; pieces still in the link's queue are freed as they come out of it. */
        private void discard() {
            discarded = true;
            pending.forEach(x -> x.piece().release());
            pending.clear();
            directions.remove(this);
        }

        /** The sending side closed: deliver what the link still holds, then close the receiving side. */
        void finish() {
            closeWhenDrained = true;
            pump();
        }
    }

    /** The edge's side of a connection. */
    private final class Inbound extends ChannelInboundHandlerAdapter {
        private long connection;
        private Direction up;
        private Direction down;
        private ByteBuf header; // CONNECT mode: the request so far

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel in = ctx.channel();
            open.add(in);
            in.closeFuture().addListener(f -> open.remove(in));
            connection = connections.incrementAndGet();
            up = new Direction(true, in, connection);
            if (target != null) {
                connect(in, target, null);
            } else {
                header = in.alloc().buffer(256);
                in.read();
            }
        }

        private void connect(Channel in, InetSocketAddress to, ByteBuf leftover) {
            Relay relay = new Relay(in);
            new Bootstrap()
                    .group(in.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(relay)
                    .connect(to)
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            if (leftover != null) {
                                leftover.release();
                                in.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 502 Bad Gateway\r\n\r\n", StandardCharsets.US_ASCII))
                                        .addListener(ChannelFutureListener.CLOSE);
                            } else {
                                in.close();
                            }
                            return;
                        }
                        Channel out = f.channel();
                        if (!in.isActive()) { // the edge gave up while we connected
                            out.close();
                            if (leftover != null) {
                                leftover.release();
                            }
                            return;
                        }
                        open.add(out);
                        up.to = out;
                        down = new Direction(false, out, connection);
                        down.to = in;
                        relay.down = down;
                        if (leftover != null) { // CONNECT mode: answer, then pass on anything sent early
                            in.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 200 Connection established\r\n\r\n", StandardCharsets.US_ASCII));
                            if (leftover.isReadable()) {
                                up.send(leftover);
                            } else {
                                leftover.release();
                            }
                        }
                        if (!stalled) {
                            in.config().setAutoRead(true);
                            out.config().setAutoRead(true);
                        }
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data = (ByteBuf) msg;
            if (header == null) {
                up.send(data);
                return;
            }
            header.writeBytes(data);
            data.release();
            int end = indexOfBlankLine(header);
            if (end < 0) {
                if (header.readableBytes() > MAX_CONNECT_HEADER) {
                    refuse(ctx.channel(), "400 Bad Request");
                } else {
                    ctx.read();
                }
                return;
            }
            String request = header.toString(header.readerIndex(), end, StandardCharsets.US_ASCII);
            Matcher m = CONNECT.matcher(request);
            if (!m.find()) {
                refuse(ctx.channel(), "405 Method Not Allowed");
                return;
            }
            ByteBuf rest = header.readRetainedSlice(header.readableBytes()).skipBytes(end);
            header.release();
            header = null;
            String host = m.group(1).replace("[", "").replace("]", "");
            connect(ctx.channel(), InetSocketAddress.createUnresolved(host, Integer.parseInt(m.group(2))), rest);
        }

        private void refuse(Channel in, String status) {
            header.release();
            header = null;
            in.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 " + status + "\r\n\r\n", StandardCharsets.US_ASCII))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (header != null) {
                header.release();
                header = null;
            }
            up.finish();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Index just past the first CRLFCRLF in {@code buf}, relative to its reader index, or -1. */
    static int indexOfBlankLine(ByteBuf buf) {
        int start = buf.readerIndex();
        for (int i = start; i + 3 < buf.writerIndex(); i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n' && buf.getByte(i + 2) == '\r' && buf.getByte(i + 3) == '\n') {
                return i + 4 - start;
            }
        }
        return -1;
    }

    /** The worker's side of a connection. */
    private final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel inbound;
        private Direction down;

        Relay(Channel inbound) {
            this.inbound = inbound;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().closeFuture().addListener(f -> open.remove(ctx.channel()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            down.send((ByteBuf) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (down != null) {
                down.finish();
            } else {
                inbound.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Forwards one buffer; a failed write closes the source side too. */
    private static void relay(Channel from, Channel to, ByteBuf data) {
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
