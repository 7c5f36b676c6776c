package io.cleave.link;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A link's delivery schedule: how many bytes it can deliver in each millisecond, repeating with
 * the trace's period. Read from the formats in {@code shared/traces} (see its README for units):
 * <ul>
 *   <li>Mahimahi: one integer millisecond timestamp per line, each a 1500-byte delivery opportunity;
 *       period = last timestamp;
 *   <li>two columns {@code <time_s>\t<Mbps>} at a fixed interval (Lumos5G, FCC): sample i covers
 *       {@code [i*interval, (i+1)*interval)} and delivers Mbps x 125 bytes per millisecond;
 *   <li>5Gophers CSV with a header and a {@code seq_num} column: one second per row, the chosen
 *       throughput column (default: the first whose name ends in {@code throughput_mbps}); missing
 *       seconds hold the last value.
 * </ul>
 */
public final class Trace {
    static final int MAHIMAHI_PACKET = 1500;

    private final String name;
    private final long[] bytesPerMs;
    private final long total;

    Trace(String name, long[] bytesPerMs) {
        this.name = name;
        this.bytesPerMs = bytesPerMs;
        long t = 0;
        for (long b : bytesPerMs) {
            t += b;
        }
        if (bytesPerMs.length == 0 || t == 0) {
            throw new IllegalArgumentException("trace " + name + " delivers nothing");
        }
        this.total = t;
    }

    /** A constant-rate trace (for tests and fixed links). */
    public static Trace constant(String name, double bytesPerSecond) {
        long[] ms = new long[1000];
        long perSecond = Math.round(bytesPerSecond);
        for (int i = 0; i < 1000; i++) {
            ms[i] = perSecond * (i + 1) / 1000 - perSecond * i / 1000;
        }
        return new Trace(name, ms);
    }

    public static Trace load(Path file) throws IOException {
        return load(file, null);
    }

    /** Reads any of the supported formats; {@code column} picks a 5Gophers CSV column (null: the default). */
    public static Trace load(Path file, String column) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String name = file.getFileName().toString();
        List<String> data = lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (data.isEmpty()) {
            throw new IOException(file + ": empty trace");
        }
        try {
            if (data.get(0).contains(",")) {
                return csv(name, data, column);
            }
            if (data.get(0).split("\\s+").length == 2) {
                return twoColumn(name, data);
            }
            return mahimahi(name, data);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a Mahimahi, two-column or 5Gophers CSV trace (" + e.getMessage() + ")", e);
        }
    }

    static Trace mahimahi(String name, List<String> lines) {
        long last = Long.parseLong(lines.get(lines.size() - 1));
        long[] ms = new long[(int) Math.max(1, last)];
        for (String l : lines) {
            long t = Long.parseLong(l);
            ms[(int) Math.min(ms.length - 1, t == last ? last - 1 : t)] += MAHIMAHI_PACKET;
        }
        return new Trace(name, ms);
    }

    static Trace twoColumn(String name, List<String> lines) {
        double[] t = new double[lines.size()];
        double[] mbps = new double[lines.size()];
        for (int i = 0; i < t.length; i++) {
            String[] f = lines.get(i).split("\\s+");
            t[i] = Double.parseDouble(f[0]);
            mbps[i] = Double.parseDouble(f[1]);
        }
        long intervalMs = t.length > 1 ? Math.round((t[1] - t[0]) * 1000) : 1000;
        return fromSamples(name, mbps, intervalMs);
    }

    static Trace csv(String name, List<String> lines, String column) {
        String[] header = lines.get(0).split(",");
        int seq = -1;
        int col = -1;
        for (int i = 0; i < header.length; i++) {
            String h = header[i].strip();
            if (h.equals("seq_num")) {
                seq = i;
            }
            if (col < 0 && (column != null ? h.equals(column) : h.toLowerCase(Locale.ROOT).endsWith("throughput_mbps"))) {
                col = i;
            }
        }
        if (seq < 0 || col < 0) {
            throw new IllegalArgumentException("needs a seq_num column and " + (column != null ? "column " + column : "a *throughput_mbps column"));
        }
        long first = Long.parseLong(lines.get(1).split(",")[seq].strip());
        long lastSeq = Long.parseLong(lines.get(lines.size() - 1).split(",")[seq].strip());
        double[] mbps = new double[(int) (lastSeq - first + 1)];
        java.util.Arrays.fill(mbps, Double.NaN);
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",", -1);
            mbps[(int) (Long.parseLong(f[seq].strip()) - first)] = Double.parseDouble(f[col].strip());
        }
        for (int i = 0; i < mbps.length; i++) { // missing seconds hold the last value
            if (Double.isNaN(mbps[i])) {
                mbps[i] = i == 0 ? 0 : mbps[i - 1];
            }
        }
        return fromSamples(name + (column != null ? "#" + column : ""), mbps, 1000);
    }

    private static Trace fromSamples(String name, double[] mbps, long intervalMs) {
        List<Long> ms = new ArrayList<>();
        double carry = 0;
        for (double m : mbps) {
            double perMs = m * 125.0; // 1 Mbps = 125 bytes per millisecond
            for (long i = 0; i < intervalMs; i++) {
                carry += perMs;
                long whole = (long) carry;
                ms.add(whole);
                carry -= whole;
            }
        }
        return new Trace(name, ms.stream().mapToLong(Long::longValue).toArray());
    }

    public String name() {
        return name;
    }

    /** Length of one period in milliseconds. */
    public int periodMs() {
        return bytesPerMs.length;
    }

    /** Bytes deliverable in millisecond {@code ms} since the start (the trace loops). */
    public long bytesAt(long ms) {
        return bytesPerMs[(int) Math.floorMod(ms, (long) bytesPerMs.length)];
    }

    /** Bytes deliverable in {@code [fromMs, toMs)}. */
    public long bytesBetween(long fromMs, long toMs) {
        long b = 0;
        for (long m = fromMs; m < toMs; m++) {
            b += bytesAt(m);
        }
        return b;
    }

    public double meanMbps() {
        return total * 8.0 / 1000.0 / bytesPerMs.length;
    }

    /** Mean Mbps over the window {@code [fromMs, toMs)}: the true bandwidth an oracle knows. */
    public double mbpsBetween(long fromMs, long toMs) {
        return bytesBetween(fromMs, toMs) * 8.0 / 1000.0 / Math.max(1, toMs - fromMs);
    }
}
