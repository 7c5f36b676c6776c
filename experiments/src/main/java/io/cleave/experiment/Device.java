package io.cleave.experiment;

import io.cleave.edge.DeviceClass;
import java.util.Locale;

/**
 * An emulated device class an experiment runs on: the blocks it holds and how much slower its
 * compute is than this machine's. Given on the command line as a named class ({@link DeviceClass}:
 * {@code pi4}, {@code pi5}, {@code phone}, {@code this-machine}, calibrated from published
 * measurements) or as {@code label:kMax:slowdown}.
 *
 * @param label names the device in every row and table
 * @param kMax blocks the device holds (0: none, everything is sent)
 * @param slowdown local compute takes this many times as long as on this machine (1: as is)
 */
public record Device(String label, int kMax, double slowdown) {
    public Device {
        if (label == null || label.isBlank() || label.contains(",") || label.contains(":")) {
            throw new IllegalArgumentException("a device label must be non-empty, without ',' or ':', got '" + label + "'");
        }
        if (kMax < 0) {
            throw new IllegalArgumentException("device " + label + ": k_max must be >= 0, got " + kMax);
        }
        if (!(slowdown >= 1) || Double.isInfinite(slowdown)) {
            throw new IllegalArgumentException("device " + label + ": slowdown must be a finite number >= 1, got " + slowdown);
        }
    }

    /** The device that the single {@code --k-max}/{@code --slowdown} options define, labelled by its parameters. */
    public static Device of(int kMax, double slowdown) {
        return new Device(DeviceClass.unnamedLabel(kMax, slowdown), kMax, slowdown);
    }

    /** Parses a named class ({@code pi4}) or {@code label:kMax:slowdown}, e.g. {@code iot:2:2.5}. */
    public static Device parse(String spec) {
        if (spec != null && !spec.contains(":")) {
            try {
                DeviceClass c = DeviceClass.named(spec);
                return new Device(c.name(), c.kMax(), c.slowdown());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--device " + e.getMessage() + ", or label:kMax:slowdown");
            }
        }
        String[] p = spec == null ? new String[0] : spec.split(":", -1);
        if (p.length != 3) {
            throw new IllegalArgumentException("--device must be a named class or label:kMax:slowdown (e.g. iot:2:2.5), got '" + spec + "'");
        }
        int k;
        double s;
        try {
            k = Integer.parseInt(p[1].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--device " + spec + ": kMax '" + p[1] + "' is not a whole number");
        }
        try {
            s = Double.parseDouble(p[2].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--device " + spec + ": slowdown '" + p[2] + "' is not a number");
        }
        try {
            return new Device(p[0].trim(), k, s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device " + spec + ": " + e.getMessage());
        }
    }

    /** How reports describe it. */
    String describe(int threads) {
        var named = DeviceClass.find(label).filter(c -> c.kMax() == kMax && c.slowdown() == slowdown);
        if (named.isPresent()) {
            return named.get().describe() + "; " + threads + " ONNX Runtime thread(s) on this machine's CPU; calibration: "
                    + named.get().source();
        }
        return label + ": emulated, holds k_max=" + kMax + " blocks, " + threads + " ONNX Runtime thread(s) on this machine's CPU"
                + (slowdown > 1 ? ", compute slowed " + trim(slowdown) + "x" : "") + " (not a real device)";
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
