package io.cleave.cli;

import io.cleave.core.error.CleaveException;
import picocli.CommandLine;

/** Prints a one-line message naming the problem instead of a stack trace, for errors users can act on. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (ex instanceof CleaveException) {
            cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + ex.getMessage());
            return 2;
        }
        if (ex instanceof java.io.IOException || ex instanceof IllegalArgumentException) {
            cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + ex.getMessage());
            return 2;
        }
        ex.printStackTrace(cmd.getErr());
        return 1;
    }

    /** A bad option or argument: one line, the problem and where the help is, exit 2 (picocli's default adds the whole usage). */
    static int parameter(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        cmd.getErr().println("cleave " + cmd.getCommandName() + ": " + ex.getMessage() + " (see cleave "
                + (cmd.getParent() == null ? "" : cmd.getCommandName() + " ") + "--help)");
        return 2;
    }
}
