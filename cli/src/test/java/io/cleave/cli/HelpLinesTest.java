package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every option's {@code --help} line says what it does, its default and the {@code CLEAVE_*} variable it reads, and that
 * variable is the one its default really reads. Checked on the rendered help line, for every command and bench.
 */
class HelpLinesTest {
    /** Options that read no environment variable, by "command --option" ("*": every command), each with why. */
    static final Map<String, String> NOT_FROM_ENV = Map.of(
            "* --print-config", "an action of this invocation: print the configuration and exit",
            "* --json", "the output format of this one invocation, chosen by whoever reads it",
            "pack --force", "an action of this invocation: make this pack again");

    /** What {@code @Option.defaultValue()} holds when the annotation sets none. */
    private static final String NO_DEFAULT = "__no_default_value__";
    /** "default: " followed by a value, not by picocli's rendering of a missing default. */
    private static final Pattern SHOWN_DEFAULT = Pattern.compile("default: (?!null\\b)[^\\s;)]");
    /** An annotation default with a fallback value after the variable: {@code ${env:X:-value}}. */
    private static final Pattern FALLBACK = Pattern.compile("^\\$\\{env:[A-Za-z0-9_]+:-.+}$");

    @Test
    void everyOption_namesWhatItDoes_itsDefault_andItsVariable() {
        List<String> problems = new ArrayList<>();
        Set<String> allowListUsed = new HashSet<>();
        for (CommandSpec command : commands(Cleave.commandLine())) {
            for (OptionSpec o : command.options()) {
                if (!o.usageHelp() && !o.versionHelp()) {
                    check(command, o, allowListUsed, problems);
                }
            }
        }
        Set<String> stale = new LinkedHashSet<>(NOT_FROM_ENV.keySet());
        stale.removeAll(allowListUsed);
        stale.forEach(entry -> problems.add(entry + ": in NOT_FROM_ENV but no such option"));
        assertThat(problems).as("options whose --help line lacks something:%n%s", String.join("\n", problems)).isEmpty();
    }

    @Test
    void aFlagGiven_staysOn_whenItsDefaultIsAlreadyOn() {
        // picocli turns a plain flag whose default is true *off* when it is given: CLEAVE_PLAINTEXT=true --plaintext would be off
        CommandLine cmd = Cleave.commandLine();
        CommandLine worker = cmd.getSubcommands().get("worker");
        worker.setDefaultValueProvider(arg -> arg instanceof OptionSpec o && o.longestName().equals("--plaintext") ? "true" : null);
        cmd.parseArgs("worker", "--plaintext");
        assertThat((Boolean) worker.getCommandSpec().findOption("--plaintext").getValue()).isTrue();
    }

    private static void check(CommandSpec command, OptionSpec o, Set<String> allowListUsed, List<String> problems) {
        String name = command.qualifiedName(" ").replaceFirst("^cleave ?", "") + " " + o.longestName();
        String description = String.join(" ", raw(o).description()).strip();
        String line = rendered(command, o);
        if (description.isEmpty()) {
            problems.add(name + ": no description");
            return;
        }
        String annotated = raw(o).defaultValue();
        String given = annotated.equals(NO_DEFAULT) ? null : annotated;
        // a value the annotation holds is shown from it, so the help line cannot drift from the real default
        boolean holdsValue = given != null && (FALLBACK.matcher(given).matches() || !given.isEmpty() && !given.startsWith("${env:"));
        if (holdsValue && !description.contains("${DEFAULT-VALUE}")) {
            problems.add(name + ": default " + given + " is not shown with ${DEFAULT-VALUE}");
        }
        if (!SHOWN_DEFAULT.matcher(line).find()) {
            problems.add(name + ": no 'default: ...' in the help line");
        }
        String env = ConfigFile.envVariable(o);
        String key = NOT_FROM_ENV.containsKey(name) ? name
                : NOT_FROM_ENV.containsKey("* " + o.longestName()) ? "* " + o.longestName() : null;
        if (key != null) {
            allowListUsed.add(key);
            if (env != null) {
                problems.add(name + ": reads " + env + " but is in NOT_FROM_ENV");
            }
            return;
        }
        if (env == null || !env.startsWith("CLEAVE_")) {
            problems.add(name + ": its default reads no CLEAVE_* variable (${env:CLEAVE_...})");
        } else if (!line.contains("env " + env)) {
            problems.add(name + ": the help line does not name env " + env);
        }
        boolean flag = o.type() == boolean.class || o.type() == Boolean.class;
        if (env != null && flag && (o.arity().max != 1 || !"true".equals(o.fallbackValue()))) {
            problems.add(name + ": a flag read from " + env + " needs arity 0..1 and fallbackValue true, else giving it turns the "
                    + "variable's true off");
        }
    }

    /** The option's annotation as written: its default before picocli resolves the variable in it. */
    private static CommandLine.Option raw(OptionSpec o) {
        return ((AnnotatedElement) o.userObject()).getAnnotation(CommandLine.Option.class);
    }

    /** The option's line(s) in {@code command}'s usage help, whitespace collapsed. */
    private static String rendered(CommandSpec command, OptionSpec o) {
        Help help = new Help(command, Help.defaultColorScheme(Help.Ansi.OFF));
        Help.Layout layout = help.createDefaultLayout();
        layout.addOption(o, help.createDefaultParamLabelRenderer());
        return layout.toString().replaceAll("\\s+", " ");
    }

    private static List<CommandSpec> commands(CommandLine root) {
        List<CommandSpec> all = new ArrayList<>();
        Set<CommandSpec> seen = new HashSet<>();
        collect(root, all, seen);
        return all;
    }

    private static void collect(CommandLine cl, List<CommandSpec> all, Set<CommandSpec> seen) {
        if (seen.add(cl.getCommandSpec())) {
            all.add(cl.getCommandSpec());
            cl.getSubcommands().values().forEach(sub -> collect(sub, all, seen));
        }
    }
}
