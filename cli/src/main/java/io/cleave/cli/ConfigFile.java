package io.cleave.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * One process's configuration file: YAML, one key per command-line option (its long name without
 * the dashes), a value or a list. Precedence: defaults &lt; this file &lt; {@code CLEAVE_*}
 * environment &lt; command line. It is picocli's default-value provider: an option the command line
 * does not set takes its value from the environment when its variable is set, else from the file.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {
    /** The environment variable naming a config file when {@code --config} is not given. */
    static final String ENV = "CLEAVE_CONFIG";
    private static final Pattern ENV_DEFAULT = Pattern.compile("^\\$\\{env:([A-Za-z0-9_]+)");

    private final Path path;
    private final Map<String, String> values;

    private ConfigFile(Path path, Map<String, String> values) {
        this.path = path;
        this.values = values;
    }

    /**
     * Reads {@code path}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong: missing, not YAML, not a mapping, a nested value
     */
    static ConfigFile load(Path path) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(path));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + path + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + path + ": " + firstLine(e.getMessage()));
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new ConfigFile(path, values); // empty file
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("config file " + path + ": expected option: value lines, e.g. `metrics-port: 9471`");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isArray()) {
                List<String> items = new ArrayList<>();
                v.forEach(item -> items.add(scalar(path, e.getKey(), item)));
                values.put(e.getKey(), String.join(",", items));
            } else {
                values.put(e.getKey(), scalar(path, e.getKey(), v));
            }
        }
        return new ConfigFile(path, values);
    }

    private static String scalar(Path path, String key, JsonNode v) {
        if (v.isObject() || v.isArray()) {
            throw new IllegalArgumentException("config file " + path + ": '" + key + "' must be a value or a list of values");
        }
        return v.isNull() ? "" : v.asText();
    }

    Path path() {
        return path;
    }

    /** Refuses keys that are not options of {@code command}: a misspelt key would otherwise be ignored without a word. */
    void checkKeys(CommandSpec command) {
        for (String key : values.keySet()) {
            OptionSpec o = command.findOption("--" + key);
            if (o == null || o.usageHelp() || o.versionHelp() || key.equals("config")) {
                throw new IllegalArgumentException("config file " + path + ": '" + key + "' is not an option of `cleave "
                        + command.name() + "` (see cleave " + command.name() + " --help)");
            }
        }
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o)) {
            return null;
        }
        String env = envVariable(o);
        if (env != null && System.getenv(env) != null) {
            return null; // the environment wins over the file: the annotation's default reads it
        }
        return values.get(key(o));
    }

    /** Whether this file sets {@code o}. */
    boolean sets(OptionSpec o) {
        return values.containsKey(key(o));
    }

    static String key(OptionSpec o) {
        return o.longestName().replaceFirst("^--", "");
    }

    /** The {@code CLEAVE_*} variable an option's default reads, or null. */
    static String envVariable(OptionSpec o) {
        // the annotation as written: picocli hands out the default with its variables already resolved
        String raw = o.userObject() instanceof java.lang.reflect.AnnotatedElement a && a.getAnnotation(CommandLine.Option.class) != null
                ? a.getAnnotation(CommandLine.Option.class).defaultValue() : o.defaultValue();
        if (raw == null) {
            return null;
        }
        Matcher m = ENV_DEFAULT.matcher(raw);
        return m.find() ? m.group(1) : null;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
