package io.cleave.it;

import io.cleave.core.testing.TestPacks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A real `cleave <command>` child process (worker, coordinator) on loopback port 0. */
final class CleaveProcess implements AutoCloseable {
    private static final java.util.regex.Pattern LISTENING = java.util.regex.Pattern.compile("listening on \\S+:(\\d+)");
    private final Process process;
    private final int port;
    private static final java.util.regex.Pattern METRICS = java.util.regex.Pattern.compile("^cleave \\S+ metrics on http://\\S+:(\\d+)/metrics");
    private volatile int metricsPort = -1;
    private final StringBuffer log = new StringBuffer();

    private CleaveProcess(String command, List<String> extraArgs) throws Exception {
        this(command, TestPacks.packDir(), extraArgs);
    }

    /** The command line of a child {@code cleave <command>} on loopback port 0, output and errors on one stream. */
    private static ProcessBuilder processBuilder(String command, Path pack, List<String> extraArgs) {
        List<String> cmd = new ArrayList<>();
        if (command.equals("worker")) {
            // in production the cloud worker runs on other hardware; here it shares the 2 cores with the edge under test,
            // so it runs at a lower CPU priority: it still serves, but cannot take the edge's cores when both are busy
            cmd.addAll(List.of("nice", "-n", "10"));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:ThreadPriorityPolicy=1", // as the launcher
                command.equals("edge") ? "-XX:+UseZGC" : "-XX:+UseG1GC",
                "-Dai.djl.offline=true", "-Dcleave.log.level=warn",
                "-cp", System.getProperty("java.class.path"), "io.cleave.cli.Cleave", command, "--host", "127.0.0.1", "--port", "0"));
        if (command.equals("worker") || command.equals("edge") || command.equals("coordinator")) {
            cmd.addAll(List.of("--metrics-port", "0")); // tests run several side by side: no fixed ports
        }
        if (command.equals("worker") || command.equals("edge")) {
            cmd.addAll(List.of("--pack", pack.toAbsolutePath().toString(), "--threads", "1"));
        }
        if (!extraArgs.contains("--tls-dir")) {
            cmd.add("--plaintext"); // loopback experiments; MutualTlsTest and ContainerStackTest run TLS
        }
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().putIfAbsent("MALLOC_MMAP_THRESHOLD_", "2097152"); // as the launcher: freed native memory goes back
        return pb;
    }

    private CleaveProcess(String command, Path pack, List<String> extraArgs) throws Exception {
        process = processBuilder(command, pack, extraArgs).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> ready = new CompletableFuture<>();
        Thread drain = new Thread(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    log.append(line).append('\n');
                    java.util.regex.Matcher metrics = METRICS.matcher(line);
                    if (metrics.find()) {
                        metricsPort = Integer.parseInt(metrics.group(1));
                    }
                    java.util.regex.Matcher m = LISTENING.matcher(line);
                    if (line.startsWith("cleave " + command + " listening on ") && m.find()) {
                        ready.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // process gone
            }
            ready.completeExceptionally(new IllegalStateException(command + " exited before listening:\n" + log));
        }, command + "-stdout");
        drain.setDaemon(true);
        drain.start();
        port = ready.get(90, TimeUnit.SECONDS);
    }

    /** What a child that exits by itself did: its exit code and its stdout and stderr together. */
    record Exited(int code, String output) {}

    /** Runs {@code cleave <command>} on the committed pack (as {@link #start} would) until it exits by itself, within 90 s. */
    static Exited exited(String command, String... extraArgs) throws Exception {
        Process p = processBuilder(command, TestPacks.packDir(), List.of(extraArgs)).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " still running after 90 s:\n" + output.getNow(""));
        }
        return new Exited(p.exitValue(), output.get(10, TimeUnit.SECONDS));
    }

    /** A worker serving the committed pack. */
    static CleaveProcess start(String... extraArgs) throws Exception {
        return new CleaveProcess("worker", List.of(extraArgs));
    }

    /** An edge agent serving its device API (`edge --serve`) on the committed pack. */
    static CleaveProcess edge(String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--serve"));
        args.addAll(List.of(extraArgs));
        return new CleaveProcess("edge", args);
    }

    /** A worker serving {@code pack}. */
    static CleaveProcess worker(Path pack, String... extraArgs) throws Exception {
        return new CleaveProcess("worker", pack, List.of(extraArgs));
    }

    /** An edge agent on {@code pack} serving its device API. */
    static CleaveProcess edge(Path pack, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--serve"));
        args.addAll(List.of(extraArgs));
        return new CleaveProcess("edge", pack, args);
    }

    static CleaveProcess coordinator(String... extraArgs) throws Exception {
        return new CleaveProcess("coordinator", List.of(extraArgs));
    }

    int port() {
        return port;
    }

    String target() {
        return "127.0.0.1:" + port;
    }

    /** The port of its Prometheus endpoint (-1: none announced). */
    int metricsPort() {
        return metricsPort;
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hooks, no goodbyes. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, not waiting: the process runs its graceful shutdown. */
    void terminate() {
        process.destroy();
    }

    /** SIGSTOP / SIGCONT: the process stays, its sockets stay open, nothing moves. */
    void freeze(boolean on) throws Exception {
        new ProcessBuilder("kill", on ? "-STOP" : "-CONT", String.valueOf(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
        // returns once every thread is stopped (running again): what the caller does next happens after the freeze
        Path status = Path.of("/proc", String.valueOf(process.pid()), "status");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (process.isAlive() && Files.exists(status) && stopped(status) != on && System.nanoTime() < until) {
            Thread.sleep(1);
        }
    }

    /** Whether every thread of the process is stopped (state T in each task's status). */
    private static boolean stopped(Path status) throws IOException {
        try (java.util.stream.Stream<Path> tasks = Files.list(status.getParent().resolve("task"))) {
            return tasks.allMatch(t -> {
                try {
                    return Files.readAllLines(t.resolve("status")).stream().anyMatch(l -> l.startsWith("State:") && l.contains("T"));
                } catch (IOException e) {
                    return true; // the thread has exited
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    String log() {
        return log.toString();
    }

    @Override
    public void close() throws Exception {
        freeze(false);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
