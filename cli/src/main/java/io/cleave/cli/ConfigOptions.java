package io.cleave.cli;

import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/** {@code --config FILE} and {@code --print-config} of the server commands (see {@link ConfigFile}). */
final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:" + ConfigFile.ENV + "}",
            description = "YAML file of option: value lines (keys are the long option names); precedence: defaults < this "
                    + "file < CLEAVE_* environment < command line (default: none; env " + ConfigFile.ENV + ")")
    Path config;

    @Option(names = "--print-config", description = "print the effective configuration, each value with where it came from, and exit (default: off)")
    boolean print;

    /** With {@code --print-config}: prints {@code command}'s effective options as YAML and returns true (the caller exits). */
    boolean printIfAsked(CommandSpec command) {
        if (!print) {
            return false;
        }
        CommandLine.IDefaultValueProvider provider = command.defaultValueProvider();
        ConfigFile file = provider instanceof ConfigFile f ? f : null;
        CommandLine.ParseResult parsed = command.commandLine().getParseResult();
        StringBuilder out = new StringBuilder("# effective configuration of `cleave " + command.name() + "`; each line says where its"
                + " value came from\n");
        for (OptionSpec o : command.options()) {
            String key = ConfigFile.key(o);
            if (o.usageHelp() || o.versionHelp() || key.equals("config") || key.equals("print-config")) {
                continue;
            }
            String env = ConfigFile.envVariable(o);
            String source = parsed.hasMatchedOption(o) ? "command line"
                    : env != null && System.getenv(env) != null ? "env " + env
                    : file != null && file.sets(o) ? "file " + file.path()
                    : "default";
            Object v = o.getValue();
            String line = v == null ? "# " + key + ": (unset)" : key + ": " + yaml(v);
            out.append(String.format("%-48s # %s%n", line, source));
        }
        System.out.print(out);
        System.out.flush();
        return true;
    }

    private static String yaml(Object v) {
        if (v instanceof Collection<?> c) {
            return c.stream().map(ConfigOptions::yaml).collect(Collectors.joining(", ", "[", "]"));
        }
        String s = String.valueOf(v);
        return s.isEmpty() || s.matches(".*[:#\\[\\]{},&*!|>'\"%@`].*") || !s.equals(s.strip()) ? "'" + s.replace("'", "''") + "'" : s;
    }

    /**
     * Installs the config file a command line names ({@code --config FILE}, else {@link ConfigFile#ENV}) as the default
     * provider of the subcommand it runs, after checking its keys. Commands without {@code --config} ignore the variable.
     *
     * @throws IllegalArgumentException the file is missing, malformed or names an option the command does not have
     */
    static void install(CommandLine root, String[] args) {
        CommandLine sub = null;
        Path path = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (sub == null && !a.startsWith("-") && root.getSubcommands().containsKey(a)) {
                sub = root.getSubcommands().get(a);
            } else if (a.equals("--config") && i + 1 < args.length) {
                path = Path.of(args[i + 1]);
            } else if (a.startsWith("--config=")) {
                path = Path.of(a.substring("--config=".length()));
            }
        }
        if (sub == null || sub.getCommandSpec().findOption("--config") == null) {
            return;
        }
        if (path == null) {
            String env = System.getenv(ConfigFile.ENV);
            if (env == null || env.isBlank()) {
                return;
            }
            path = Path.of(env);
        }
        ConfigFile file = ConfigFile.load(path);
        file.checkKeys(sub.getCommandSpec());
        sub.setDefaultValueProvider(file);
    }
}
