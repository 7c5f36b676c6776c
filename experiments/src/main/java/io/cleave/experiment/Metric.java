package io.cleave.experiment;

/**
 * What a request scores in the reports. A trained pack scores accuracy at deadline (1 if the answer
 * arrived in time and was right); an untrained pack ({@code trained: false}, random weights made for
 * timing) has no meaningful accuracy, so it scores the depth of the answering exit instead: the
 * block the exit sits after if the answer arrived in time, else 0.
 */
public enum Metric {
    ACCURACY("accuracy at deadline", "%"),
    DEPTH("exit depth at deadline (block of the answering exit, 0 if late; the pack is untrained, so depth stands in for accuracy)",
            "blocks");

    private final String label;
    private final String unit;

    Metric(String label, String unit) {
        this.label = label;
        this.unit = unit;
    }

    /** The metric for a pack: depth when its weights are untrained. */
    public static Metric forPack(boolean trained) {
        return trained ? ACCURACY : DEPTH;
    }

    public double score(RequestRecord r) {
        return switch (this) {
            case ACCURACY -> r.correctInTime() ? 1 : 0;
            case DEPTH -> r.deadlineMet() ? Math.max(0, r.exitBlock()) : 0;
        };
    }

    /** Whether scores are 0/1 (a proportion, with a Wilson interval). */
    boolean binary() {
        return this == ACCURACY;
    }

    public String label() {
        return label;
    }

    String unit() {
        return unit;
    }

    /** A score or score difference as a table shows it. */
    String format(double v) {
        return binary() ? String.format(java.util.Locale.ROOT, "%.1f%%", 100 * v) : String.format(java.util.Locale.ROOT, "%.2f", v);
    }

    /** A difference, in pp for accuracy. */
    String formatDiff(double v) {
        return binary() ? String.format(java.util.Locale.ROOT, "%+.1f pp", 100 * v) : String.format(java.util.Locale.ROOT, "%+.2f", v);
    }
}
