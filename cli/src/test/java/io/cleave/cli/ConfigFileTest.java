package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.testing.TestPacks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A server's config file: precedence defaults < file < environment < command line, shown by --print-config; bad files refused. */
class ConfigFileTest {
    record Run(int code, String out, String err) {}

    /** In this JVM (no environment of its own): the file and the command line. */
    static Run inProcess(String... args) {
        CommandLine cmd = new CommandLine(new Cleave()).setExecutionExceptionHandler(new ErrorHandler());
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            ConfigOptions.install(cmd, args);
            return new Run(cmd.execute(args), out.toString(StandardCharsets.UTF_8), "");
        } catch (IllegalArgumentException e) {
            return new Run(2, out.toString(StandardCharsets.UTF_8), e.getMessage());
        } finally {
            System.setOut(saved);
        }
    }

    /** A real `cleave` process with {@code env} added: the environment's place in the order. */
    static Run process(List<String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), Cleave.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("CLEAVE_METRICS_PORT");
        pb.environment().remove(ConfigFile.ENV);
        for (String kv : env) {
            pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err);
    }

    static String line(Run r, String key) {
        return r.out().lines().filter(l -> l.startsWith(key + ":")).findFirst().orElseThrow(() -> new AssertionError(key + " in " + r.out()));
    }

    @Test
    void theFileSetsWhatTheCommandLineDoesNot_andPrintConfigSaysWhere(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("worker.yaml");
        Files.writeString(f, "# a worker\nport: 7000\nmax-batch: 4\nmetrics-port: 9600\n");
        Run r = inProcess("worker", "--pack", TestPacks.packDir().toString(), "--config", f.toString(), "--max-batch", "16", "--print-config");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(line(r, "port")).matches("port: 7000 +# file " + java.util.regex.Pattern.quote(f.toString()));
        assertThat(line(r, "max-batch")).matches("max-batch: 16 +# command line");
        assertThat(line(r, "queue")).matches("queue: \\d+ +# default");
        assertThat(line(r, "metrics-port")).startsWith("metrics-port: 9600 ");
    }

    @Test
    void theEnvironmentWinsOverTheFile_theCommandLineOverBoth(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("coordinator.yaml");
        Files.writeString(f, "metrics-port: 9600\nheartbeat-ms: 250\n");
        Run env = process(List.of("CLEAVE_METRICS_PORT=9601", ConfigFile.ENV + "=" + f), "coordinator", "--print-config");
        assertThat(env.code()).as(env.err()).isZero();
        assertThat(line(env, "metrics-port")).matches("metrics-port: 9601 +# env CLEAVE_METRICS_PORT");
        assertThat(line(env, "heartbeat-ms")).as("the file named by " + ConfigFile.ENV).matches("heartbeat-ms: 250 +# file .*");
        Run flag = process(List.of("CLEAVE_METRICS_PORT=9601"), "coordinator", "--config", f.toString(), "--metrics-port", "9602",
                "--print-config");
        assertThat(line(flag, "metrics-port")).matches("metrics-port: 9602 +# command line");
    }

    @Test
    void aBadFile_isOneLineNamingItAndTheProblem(@TempDir Path dir) throws Exception {
        Path typo = dir.resolve("typo.yaml");
        Files.writeString(typo, "max-bacth: 4\n");
        assertThat(inProcess("worker", "--config", typo.toString()).err())
                .isEqualTo("config file " + typo + ": 'max-bacth' is not an option of `cleave worker` (see cleave worker --help)");
        assertThat(inProcess("worker", "--config", dir.resolve("missing.yaml").toString()).err()).endsWith("missing.yaml: no such file");
        Path nested = dir.resolve("nested.yaml");
        Files.writeString(nested, "port: {a: 1}\n");
        assertThat(inProcess("coordinator", "--config", nested.toString()).err()).endsWith("'port' must be a value or a list of values");
        Path notYaml = dir.resolve("broken.yaml");
        Files.writeString(notYaml, "port: [1, 2\n");
        assertThat(inProcess("coordinator", "--config", notYaml.toString()).err()).startsWith("config file " + notYaml + ": ");
        Run viaMain = process(List.of(), "worker", "--config", typo.toString());
        assertThat(viaMain.code()).isEqualTo(2);
        assertThat(viaMain.err()).isEqualTo("cleave: config file " + typo + ": 'max-bacth' is not an option of `cleave worker`"
                + " (see cleave worker --help)" + System.lineSeparator());
    }

    @Test
    void theCommentedExamples_areAcceptedAsTheyStand() {
        for (String role : new String[] {"edge", "worker", "coordinator"}) {
            Path example = Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."), "docs", "config", role + ".yaml");
            Run r = role.equals("edge") ? inProcess("edge", "--serve", "--config", example.toString(), "--print-config")
                    : inProcess(role, "--config", example.toString(), "--print-config");
            assertThat(r.code()).as(role + ": " + r.err()).isZero();
            assertThat(r.out()).as(role).contains("# file " + example);
        }
    }
}
