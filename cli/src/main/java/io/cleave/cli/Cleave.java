package io.cleave.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./cleave} launcher. */
@Command(name = "cleave", mixinStandardHelpOptions = true, version = "cleave 0.1.0",
        description = "Deadline-aware edge-cloud split inference with multi-exit vision transformers.",
        subcommands = {DemoCommand.class, EvalCommand.class, BenchCommand.class, WorkerCommand.class, EdgeCommand.class,
                CoordinatorCommand.class, LinkCommand.class, ExperimentCommand.class, HealthCommand.class, PackCommand.class, CertsCommand.class,
                CommandLine.HelpCommand.class})
public final class Cleave implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The launcher's command line: one-line errors for bad options and for failures users can act on. */
    public static CommandLine commandLine() {
        return new CommandLine(new Cleave()).setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler(ErrorHandler::parameter).setExecutionExceptionHandler(new ErrorHandler());
    }

    public static void main(String[] args) {
        CommandLine cmd = commandLine();
        try {
            ConfigOptions.install(cmd, args);
        } catch (IllegalArgumentException e) {
            System.err.println("cleave: " + e.getMessage());
            System.exit(2);
        }
        System.exit(cmd.execute(args));
    }
}
