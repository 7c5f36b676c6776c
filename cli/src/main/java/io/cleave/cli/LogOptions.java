package io.cleave.cli;

import ch.qos.logback.classic.Level;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * A server command's logging: {@code --log-level} (servers log at {@code info}: start-up, worker loss and return,
 * reassignments, refused callers) and {@code --log-format text|json}. Other commands log at {@code warn} unless
 * {@code CLEAVE_LOG_LEVEL} says otherwise ({@link LogSetup}).
 */
final class LogOptions {
    @Option(names = "--log-level", defaultValue = "${env:CLEAVE_LOG_LEVEL}", converter = LevelConverter.class, paramLabel = "LEVEL",
            description = "least severe events logged: error, warn, info, debug or trace (default: info; env CLEAVE_LOG_LEVEL)")
    Level level;

    @Option(names = "--log-format", defaultValue = "${env:CLEAVE_LOG_FORMAT:-text}", converter = FormatConverter.class,
            paramLabel = "FORMAT", description = "log lines on stderr as text, or as json (one object a line: timestamp, level, "
                    + "threadName, loggerName, formattedMessage, throwable) (default: ${DEFAULT-VALUE}; env CLEAVE_LOG_FORMAT)")
    LogSetup.Format format = LogSetup.Format.TEXT;

    /** Sets the process's logging up as asked; a JVM started with {@code -Dcleave.log.level} (the tests) keeps that level. */
    void apply() {
        Level chosen = level;
        if (chosen == null) {
            String property = System.getProperty("cleave.log.level");
            chosen = property == null ? Level.INFO : Level.toLevel(property, Level.INFO);
        }
        LogSetup.apply(chosen, format);
    }

    static final class LevelConverter implements ITypeConverter<Level> {
        @Override
        public Level convert(String value) {
            Level level = LogSetup.parseLevel(value);
            if (level == null || level == Level.ALL || level == Level.OFF) {
                throw new TypeConversionException("'" + value + "' is not a level: use error, warn, info, debug or trace");
            }
            return level;
        }
    }

    static final class FormatConverter implements ITypeConverter<LogSetup.Format> {
        @Override
        public LogSetup.Format convert(String value) {
            LogSetup.Format format = LogSetup.parseFormat(value);
            if (format == null) {
                throw new TypeConversionException("'" + value + "' is not a log format: use text or json");
            }
            return format;
        }
    }
}
