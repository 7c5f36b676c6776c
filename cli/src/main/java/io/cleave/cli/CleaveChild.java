package io.cleave.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code cleave <command>} child process of this JVM for the benchmarks: the same classpath and
 * {@code cleave.home}, telemetry off, its output drained and kept, and the port it announces
 * ({@code cleave <command> listening on HOST:PORT}) read before {@link #start} returns.
 */
final class CleaveChild implements AutoCloseable {
    private final Process process;
    private final StringBuffer log = new StringBuffer();
    private final long startedNanos;
    private final long listeningNanos;
    private final int port;

    private CleaveChild(List<String> cmd, String command, long timeoutMillis) throws IOException, InterruptedException {
        Pattern listening = Pattern.compile("^cleave " + Pattern.quote(command) + " listening on \\S+:(\\d+)");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().remove("CLEAVE_WORKERS"); // the child gets what its arguments say, not this shell's workers
        startedNanos = System.nanoTime();
        process = pb.start();
        CompletableFuture<long[]> ready = new CompletableFuture<>(); // {port, nanoTime when announced}
        Thread drain = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    log.append(line).append('\n');
                    Matcher m = listening.matcher(line);
                    if (!ready.isDone() && m.find()) {
                        ready.complete(new long[] {Integer.parseInt(m.group(1)), System.nanoTime()});
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            ready.completeExceptionally(new IllegalStateException("cleave " + command + " exited before listening:\n" + log));
        }, "cleave-" + command + "-stdout");
        drain.setDaemon(true);
        drain.start();
        try {
            long[] r = ready.get(timeoutMillis, TimeUnit.MILLISECONDS);
            port = (int) r[0];
            listeningNanos = r[1];
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            kill9();
            throw e instanceof ExecutionException && e.getCause() instanceof IllegalStateException ise ? ise
                    : new IllegalStateException("cleave " + command + " did not announce its port within " + timeoutMillis + " ms:\n" + log, e);
        }
    }

    /**
     * Starts {@code cleave command args...} and waits up to {@code timeoutMillis} for it to listen.
     *
     * @param prefix what runs the JVM (e.g. {@code nice -n 10}); empty for nothing
     * @param jvmOptions before the launcher's own system properties
     */
    static CleaveChild start(List<String> prefix, List<String> jvmOptions, String command, List<String> args, long timeoutMillis)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dcleave.home=" + Paths.home().toAbsolutePath(),
                "-Dcleave.log.level=warn",
                "-cp", System.getProperty("java.class.path"), Cleave.class.getName(), command));
        cmd.addAll(args);
        return new CleaveChild(cmd, command, timeoutMillis);
    }

    int port() {
        return port;
    }

    /** The process id (the JVM's own: {@code nice} execs it). */
    long pid() {
        return process.pid();
    }

    long startedNanos() {
        return startedNanos;
    }

    /** When it announced that it listens. */
    long listeningNanos() {
        return listeningNanos;
    }

    String log() {
        return log.toString();
    }

    /** SIGKILL: no shutdown hooks, no goodbyes; returns once it is gone. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM (its shutdown hook drains), SIGKILL after 10 s; interrupted: SIGKILL at once. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill9();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
