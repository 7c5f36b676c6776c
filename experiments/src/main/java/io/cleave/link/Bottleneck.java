package io.cleave.link;

import java.util.ArrayDeque;

/**
 * One direction of a link as a real bottleneck sees it: a FIFO queue, shared by the link's
 * connections, that drains at the rate the link has <em>now</em>. A piece is timed when it reaches the
 * head of the queue, under the shaper current at that moment, so a backlog built up on a slow link
 * leaves at the new rate once the link speeds up (and at the lower one once it slows down). If the
 * shaper changes while a piece is being sent, what is left of the piece (pro rata by time) goes at
 * the new shaper's pace.
 *
 * <p>Time is passed in (nanoseconds, any origin), so the queue is tested on a made-up clock. Not
 * thread-safe: {@link LinkProxy} touches it only on its event loop.
 *
 * @param <T> what travels with each piece
 */
final class Bottleneck<T> {
    /** Receives each piece, in order, when its transmission has ended. */
    interface Exit<T> {
        void sent(T item, long endNanos);
    }

    private record Piece<T>(T item, int bytes, long arrivedNanos) {}

    private final ArrayDeque<Piece<T>> queue = new ArrayDeque<>();
    private long queuedBytes;
    private long lastEnd = Long.MIN_VALUE; // when the previous piece finished: the link is busy until then
    // the piece being sent (the head), once timed
    private boolean headTimed;
    private Shaper headShaper;
    private int headBytes; // bytes of the head still to send as of headStart
    private long headStart;
    private long headEnd;

    /** Queues {@code bytes} handed to the link at {@code now}. */
    void add(T item, int bytes, long now) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a piece holds at least one byte, got " + bytes);
        }
        queue.addLast(new Piece<>(item, bytes, now));
        queuedBytes += bytes;
    }

    /** Bytes queued or being sent. */
    long queuedBytes() {
        return queuedBytes;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /**
     * Hands every piece whose transmission has ended by {@code now} to {@code exit}, in order, timing
     * each new head under {@code current} (null: an unshaped link, which sends at once). Returns when
     * the piece now being sent will end, or {@link Long#MAX_VALUE} when the queue is empty.
     */
    long advance(long now, Shaper current, Exit<T> exit) {
        while (!queue.isEmpty()) {
            Piece<T> head = queue.peekFirst();
            if (!headTimed) {
                headStart = Math.max(lastEnd, head.arrivedNanos());
                headBytes = head.bytes();
                headShaper = current;
                headEnd = current == null ? headStart : current.deliver(headStart, headBytes);
                headTimed = true;
            } else if (current != headShaper && headEnd > now && now >= headStart) {
                // the link changed under this piece: what it has not sent yet goes at the new pace
                int left = (int) Math.ceil(headBytes * ((double) (headEnd - now) / (headEnd - headStart)));
                headStart = now;
                headBytes = Math.max(1, left);
                headShaper = current;
                headEnd = current == null ? now : current.deliver(now, headBytes);
            }
            if (headEnd > now) {
                return headEnd;
            }
            queue.pollFirst();
            queuedBytes -= head.bytes();
            headTimed = false;
            lastEnd = headEnd;
            exit.sent(head.item(), headEnd);
        }
        return Long.MAX_VALUE;
    }

    /** Empties the queue, handing each item to {@code drop} (to free it). */
    void clear(java.util.function.Consumer<T> drop) {
        queue.forEach(p -> drop.accept(p.item()));
        queue.clear();
        queuedBytes = 0;
        headTimed = false;
    }
}
