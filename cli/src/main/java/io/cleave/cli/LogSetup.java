package io.cleave.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The launcher's logging, on logback: one line per event on stderr, as text or as JSON (one object a line, for log
 * shippers). Stdout stays for results and the start-up lines scripts read ({@code cleave worker listening on ...}).
 *
 * <p>Logback finds this class through {@code META-INF/services} before it looks for a {@code logback.xml}, and sets up
 * from the system properties {@code cleave.log.level} and {@code cleave.log.format} (else {@code CLEAVE_LOG_LEVEL},
 * {@code CLEAVE_LOG_FORMAT}, else {@code warn}, {@code text}). A server command's {@code --log-level} and
 * {@code --log-format} then set it up again once the command line is parsed ({@link LogOptions}).
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    /** The formats {@code --log-format} takes. */
    public enum Format { TEXT, JSON }

    /** Loggers whose own level stays above the root's: start-up chatter of libraries that says nothing to an operator. */
    private static final Map<String, Level> QUIET = Map.of(
            // one "Onnx extension not found" line per extension it looks for (13 at info), and engine loading notes
            "ai.djl", Level.WARN,
            // on ONNX Runtime's CPU build, "CUDA is not supported OnnxRuntime engine: ... Failed to find CUDA shared
            // provider" at warn, once per process: DJL 0.38's system NDManager asks Engine.defaultDevice() on first use,
            // whatever device the models are given, and DJL has no option to name the default device. The worker's
            // --device says what it runs on itself (its auto fallback warns once, in its own words)
            "ai.djl.onnxruntime.engine.OrtEngine", Level.ERROR);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        Level level = Level.toLevel(setting("cleave.log.level", "CLEAVE_LOG_LEVEL", "warn"), Level.WARN);
        Format format = parseFormat(setting("cleave.log.format", "CLEAVE_LOG_FORMAT", "text"));
        install(context, level, format == null ? Format.TEXT : format);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Sets the process's logging up again: every event at {@code level} or above, in {@code format}. */
    public static void apply(Level level, Format format) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            install(context, level, format);
        }
    }

    /** A level as users type it ({@code info}, {@code WARN}), or null when it is none of logback's. */
    public static Level parseLevel(String text) {
        Level level = Level.toLevel(text, null);
        return level != null && level.toString().equalsIgnoreCase(text.strip()) ? level : null;
    }

    /** A format as users type it, or null. */
    public static Format parseFormat(String text) {
        try {
            return Format.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void install(LoggerContext context, Level level, Format format) {
        context.reset();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("stderr");
        console.setTarget("System.err");
        console.setEncoder(encoder(context, format));
        console.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(level);
        root.addAppender(console);
        if (level.isGreaterOrEqual(Level.INFO)) { // asked for debug or trace: everything
            QUIET.forEach((name, floor) -> context.getLogger(name).setLevel(floor.isGreaterOrEqual(level) ? floor : level));
        }
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, Format format) {
        if (format == Format.JSON) {
            // {"timestamp":...,"level":"WARN","threadName":...,"loggerName":...,"kvpList":[...],"formattedMessage":...,"throwable":...}
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithMarkers(false);
            json.setWithMDC(false);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithFormattedMessage(true);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} - %msg%n");
        text.start();
        return text;
    }

    private static String setting(String property, String env, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? fallback : value;
    }
}
