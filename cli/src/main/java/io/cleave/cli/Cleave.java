package io.cleave.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./cleave} launcher. */
@Command(name = "cleave", mixinStandardHelpOptions = true, version = "cleave 0.1.0",
        description = "Deadline-aware edge-cloud split inference with multi-exit vision transformers.",
        subcommands = {DemoCommand.class, EvalCommand.class, BenchCommand.class, WorkerCommand.class, EdgeCommand.class,
                CoordinatorCommand.class, LinkCommand.class, ExperimentCommand.class, HealthCommand.class, PackCommand.class,
                CommandLine.HelpCommand.class})
public final class Cleave implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        CommandLine cmd = new CommandLine(new Cleave()).setExecutionExceptionHandler(new ErrorHandler());
        try {
            ConfigOptions.install(cmd, args);
        } catch (IllegalArgumentException e) {
            System.err.println("cleave: " + e.getMessage());
            System.exit(2);
        }
        System.exit(cmd.execute(args));
    }
}
