package io.cleave.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A foreign HTTP/2 client on one plaintext connection that opens gRPC streams and sends each
 * most of one large message, never the rest: the "half-sent frames" attack. Written on a raw
 * socket, frame by frame (RFC 9113; header blocks as HPACK literals without Huffman coding), so
 * that nothing in it behaves like a gRPC client. It honours the connection's flow-control window,
 * as a well-formed peer must, and answers SETTINGS and PING; it records which streams the server
 * ended (trailers or RST_STREAM).
 */
final class HalfSentFrames implements AutoCloseable {
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int END_STREAM = 0x1;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int MAX_FRAME = 16_384;

    private final Socket socket;
    private final OutputStream out;
    private final String authority;
    private final Thread reader;
    private final Set<Integer> ended = ConcurrentHashMap.newKeySet();
    private long connectionWindow = 65_535; // guarded by this
    private int nextStream = 1;
    private volatile boolean goaway;

    HalfSentFrames(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        authority = "127.0.0.1:" + port;
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        frame(SETTINGS, 0, 0, new byte[0], 0, 0);
        reader = new Thread(this::read, "half-sent-frames-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Opens {@code streams} calls to {@code method} (e.g. "/pkg.Service/Method"); on each, a gRPC
     * message header that announces {@code declared} bytes and then {@code sent} of them.
     */
    List<Integer> open(String method, int streams, int declared, int sent) throws IOException, InterruptedException {
        List<Integer> ids = new ArrayList<>();
        byte[] block = headerBlock(method);
        byte[] chunk = new byte[MAX_FRAME];
        java.util.Arrays.fill(chunk, (byte) 0x7f);
        for (int i = 0; i < streams; i++) {
            int id = nextStream;
            nextStream += 2;
            ids.add(id);
            frame(HEADERS, END_HEADERS, id, block, 0, block.length);
            byte[] prefix = {0, (byte) (declared >>> 24), (byte) (declared >>> 16), (byte) (declared >>> 8), (byte) declared};
            send(id, prefix, prefix.length);
            for (int left = sent; left > 0; ) {
                int n = Math.min(left, MAX_FRAME);
                send(id, chunk, n);
                left -= n;
            }
        }
        return ids;
    }

    /** Streams the server has ended so far. */
    int ended() {
        return ended.size();
    }

    /** How many of {@code streams} the server has ended so far. */
    long ended(List<Integer> streams) {
        return streams.stream().filter(ended::contains).count();
    }

    boolean goaway() {
        return goaway;
    }

    private void send(int stream, byte[] data, int length) throws IOException, InterruptedException {
        synchronized (this) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (connectionWindow < length) {
                if (goaway || socket.isClosed() || System.nanoTime() > until) {
                    throw new IOException("no flow-control window from the server (goaway " + goaway + ")");
                }
                wait(100);
            }
            connectionWindow -= length;
        }
        frame(DATA, 0, stream, data, 0, length);
    }

    private byte[] headerBlock(String method) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        String[][] fields = {{":method", "POST"}, {":scheme", "http"}, {":path", method}, {":authority", authority},
            {"content-type", "application/grpc"}, {"te", "trailers"}};
        for (String[] f : fields) {
            b.write(0x00); // literal header field without indexing, new name
            literal(b, f[0]);
            literal(b, f[1]);
        }
        return b.toByteArray();
    }

    private static void literal(java.io.ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= 127) {
            throw new IllegalArgumentException("header too long for a one-byte length: " + s);
        }
        b.write(bytes.length); // H = 0: no Huffman coding
        b.writeBytes(bytes);
    }

    private synchronized void frame(int type, int flags, int stream, byte[] payload, int offset, int length) throws IOException {
        byte[] head = {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
            (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
        out.write(head);
        out.write(payload, offset, length);
        out.flush();
    }

    private void read() {
        try {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] head = new byte[9];
            while (true) {
                in.readFully(head);
                int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
                int type = head[3] & 0xff;
                int flags = head[4] & 0xff;
                int stream = ((head[5] & 0x7f) << 24) | (head[6] & 0xff) << 16 | (head[7] & 0xff) << 8 | head[8] & 0xff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                switch (type) {
                    case SETTINGS -> {
                        if ((flags & ACK) == 0) {
                            frame(SETTINGS, ACK, 0, new byte[0], 0, 0);
                        }
                    }
                    case PING -> {
                        if ((flags & ACK) == 0) {
                            frame(PING, ACK, 0, payload, 0, payload.length);
                        }
                    }
                    case WINDOW_UPDATE -> {
                        if (stream == 0) {
                            int increment = ((payload[0] & 0x7f) << 24) | (payload[1] & 0xff) << 16 | (payload[2] & 0xff) << 8 | payload[3] & 0xff;
                            synchronized (this) {
                                connectionWindow += increment;
                                notifyAll();
                            }
                        }
                    }
                    case HEADERS, DATA -> {
                        if ((flags & END_STREAM) != 0) {
                            ended.add(stream);
                        }
                    }
                    case RST_STREAM -> ended.add(stream);
                    case GOAWAY -> goaway = true;
                    default -> {
                        // PRIORITY, PUSH_PROMISE, CONTINUATION: not sent by a gRPC server to this client
                    }
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
