package io.cleave.experiment;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress of a long phase (a demo plan's images, eval's batches, an experiment's requests, a bench's warm-up and
 * rounds). On a terminal: a bar on stderr ({@code me.tongfei:progressbar}), redrawn on one line and cleared when the
 * phase ends, so that what the command prints on stdout reads as without it. Off a terminal (output piped, redirected,
 * parsed by a test, a container's log): {@link #bar} prints nothing, and {@link #logged} a plain newline-terminated line
 * at each tenth of the way (a long run's log says how far it got; no carriage returns run lines together in a file).
 * "A terminal": {@link System#console()} is one (stdin and stdout both are), and {@value #ENV} is not {@code 0}.
 * One bar at a time; {@link #print} writes a line above the bar showing.
 */
public final class Progress implements AutoCloseable {
    /** {@code CLEAVE_PROGRESS=0}: no bars, even on a terminal. */
    public static final String ENV = "CLEAVE_PROGRESS";

    /** Held while the bar is drawn or a line printed above it. */
    private static final Object SCREEN = new Object();
    private static volatile Screen shown;

    private final String task;
    private final long total;
    private final ProgressBar bar; // on a terminal, else null
    private final Screen screen; // the bar's line, with it
    private final AboveBar stderr; // System.err while the bar shows, else null
    private final PrintStream lines; // off a terminal, logged: a line per tenth; else null
    private final long startNanos = System.nanoTime();
    private long done;
    private int tenths;
    private String message = "";

    private Progress(String task, long total, PrintStream lines, PrintStream terminal) {
        this.task = task;
        this.total = total;
        this.lines = terminal == null ? lines : null;
        if (terminal != null) {
            screen = new Screen(terminal);
            shown = screen;
            stderr = terminal == System.err ? new AboveBar(terminal) : null;
            if (stderr != null) {
                System.setErr(stderr);
            }
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .setConsumer(screen).clearDisplayOnFinish().build();
        } else {
            bar = null;
            screen = null;
            stderr = null;
        }
    }

    /** A bar on a terminal; nothing otherwise. */
    public static Progress bar(String task, long total) {
        return new Progress(task, total, null, terminal() ? stderr() : null);
    }

    /** A bar on a terminal; otherwise a plain line to {@code log} at each tenth of {@code total}. */
    public static Progress logged(String task, long total, PrintStream log) {
        return new Progress(task, total, log, terminal() ? stderr() : null);
    }

    /** For tests: {@code terminal} non-null draws the bar there, else as off a terminal. */
    static Progress create(String task, long total, PrintStream log, PrintStream terminal) {
        return new Progress(task, total, log, terminal);
    }

    /** {@link Thread#sleep}, with a bar of the milliseconds passing on a terminal. */
    public static void sleep(String task, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try (Progress p = terminal() ? new Progress(task, millis, null, stderr()) : null) {
            for (long left; (left = end - System.nanoTime()) > 0; ) {
                TimeUnit.NANOSECONDS.sleep(p == null ? left : Math.min(left, 100_000_000));
                if (p != null) {
                    p.stepTo(millis - Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
                }
            }
        }
    }

    public Progress step() {
        return stepBy(1);
    }

    public Progress stepBy(long n) {
        if (bar != null) {
            bar.stepBy(n);
        } else if (lines != null) {
            advance(n, true);
        }
        return this;
    }

    /** To {@code n}, at most the total (a timed phase may overrun it). */
    public Progress stepTo(long n) {
        if (bar != null) {
            bar.stepTo(Math.min(n, total));
        } else if (lines != null) {
            advance(n, false);
        }
        return this;
    }

    /** What it is doing now: after the bar, or at the end of the next logged line. */
    public Progress message(String message) {
        if (bar != null) {
            bar.setExtraMessage(message);
        } else {
            synchronized (this) {
                this.message = message;
            }
        }
        return this;
    }

    private synchronized void advance(long n, boolean by) {
        done = Math.min(total, by ? done + n : n);
        int tenth = total <= 0 ? 0 : (int) Math.min(10, done * 10 / total);
        if (tenth > tenths) {
            tenths = tenth;
            lines.printf(Locale.ROOT, "%s: %d%% (%d/%d) after %.0f s%s%n", task, tenth * 10, done, total, (System.nanoTime() - startNanos) / 1e9,
                    message.isEmpty() ? "" : ", " + message);
        }
    }

    /** Ends the phase: the bar is cleared from the screen (nothing is printed off a terminal). */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            screen.close(); // the library skips the clear when closed before its first timed redraw
            if (stderr != null && System.err == stderr) {
                System.setErr(stderr.original);
            }
        }
    }

    /**
     * Prints {@code text} (lines ending with a newline) to {@code out}: on a terminal above the bar showing, which is
     * redrawn below it; otherwise exactly {@code out.print(text)}.
     */
    public static void print(PrintStream out, String text) {
        Screen s = shown;
        if (s == null) {
            out.print(text);
            return;
        }
        s.above(out instanceof AboveBar a ? a.original : out, text);
    }

    /** The process's stderr, not the stand-in a bar installs. */
    private static PrintStream stderr() {
        return System.err instanceof AboveBar a ? a.original : System.err;
    }

    /** Whether bars are drawn: a terminal, and {@value #ENV} is not 0. */
    static boolean terminal() {
        String env = System.getenv(ENV);
        if (env != null && (env.strip().equals("0") || env.strip().equalsIgnoreCase("false"))) {
            return false;
        }
        Console c = System.console();
        if (c == null) {
            return false;
        }
        try { // JDK 22 and later: a console even when redirected, which says whether it is a terminal
            return (boolean) Console.class.getMethod("isTerminal").invoke(c);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** The bar's line: redrawn under {@link #SCREEN}, blanked when done, no newline after it. */
    private static final class Screen extends ConsoleProgressBarConsumer {
        private final PrintStream err;
        private String last; // the bar on the screen now, else null

        Screen(PrintStream err) {
            super(err); // as wide as the terminal (the library asks jline), less a column
            this.err = err;
        }

        @Override
        public void accept(String rendered) {
            synchronized (SCREEN) {
                last = rendered;
                super.accept(rendered);
                err.flush();
            }
        }

        @Override
        public void clear() {
            synchronized (SCREEN) {
                if (last != null) {
                    err.print("\r" + " ".repeat(getMaxRenderedLength()) + "\r");
                    err.flush();
                    last = null;
                }
            }
        }

        @Override
        public void close() {
            synchronized (SCREEN) {
                clear();
                if (shown == this) {
                    shown = null;
                }
            }
        }

        void above(PrintStream out, String text) {
            synchronized (SCREEN) {
                if (last == null) {
                    out.print(text);
                    return;
                }
                String bar = last;
                clear();
                out.print(text);
                out.flush();
                accept(bar);
            }
        }
    }

    /**
     * System.err while a bar shows: what anything else writes there (a logger's warning, an error) first blanks the bar's
     * line, so that it starts at the left margin; the bar is redrawn below it at its next update.
     */
    private static final class AboveBar extends PrintStream {
        final PrintStream original;

        AboveBar(PrintStream original) {
            super(original, true);
            this.original = original;
        }

        @Override
        public void write(int b) {
            blank();
            super.write(b);
        }

        @Override
        public void write(byte[] buf, int off, int len) {
            blank();
            super.write(buf, off, len);
        }

        private static void blank() {
            Screen s = shown;
            if (s != null) {
                s.clear();
            }
        }
    }
}
