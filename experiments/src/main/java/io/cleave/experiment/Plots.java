package io.cleave.experiment;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The experiment's PNG plots: accuracy-at-deadline vs deadline per policy (one panel per trace),
 * deadline-miss rate per trace and policy, and the planner over time (estimated vs true uplink
 * bandwidth and the split it chose, one row per trace).
 */
public final class Plots {
    static final int W = 900;
    static final int H = 420;

    private Plots() {}

    /** Writes the plots into {@code out}; returns their paths. */
    public static List<Path> write(Path out, List<RequestRecord> rows, List<RunSummary> runs) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> traces = distinct(runs.stream().map(RunSummary::trace).toList());
        List<Path> files = new ArrayList<>();
        files.add(save(out.resolve("accuracy-vs-deadline.png"), traces.stream().map(t -> accuracyChart(t, runs)).toList()));
        files.add(save(out.resolve("deadline-miss-rate.png"), List.of(missChart(runs))));
        List<Chart<?, ?>> timeline = new ArrayList<>();
        for (String t : traces) {
            String policy = timelinePolicy(t, runs);
            double deadline = runs.stream().filter(r -> r.trace().equals(t)).mapToDouble(RunSummary::deadlineMs).min().orElse(0);
            List<RequestRecord> sel = rows.stream().filter(r -> r.trace().equals(t) && r.policy().equals(policy) && r.deadlineMs() == deadline)
                    .sorted(Comparator.comparingDouble(RequestRecord::startS)).toList();
            timeline.add(bandwidthChart(t, policy, deadline, sel));
            timeline.add(splitChart(t, policy, deadline, sel));
        }
        files.add(save(out.resolve("planner-timeline.png"), timeline));
        return files;
    }

    /** The planner worth watching: cleave if it ran, else the first policy with a bandwidth estimate. */
    private static String timelinePolicy(String trace, List<RunSummary> runs) {
        List<String> policies = runs.stream().filter(r -> r.trace().equals(trace)).map(RunSummary::policy).distinct().toList();
        return policies.contains("cleave") ? "cleave" : policies.get(0);
    }

    private static XYChart accuracyChart(String trace, List<RunSummary> runs) {
        XYChart c = new XYChartBuilder().width(W).height(H).title("Accuracy at deadline: " + trace)
                .xAxisTitle("deadline (ms)").yAxisTitle("accuracy at deadline (%)").build();
        style(c.getStyler());
        for (String policy : distinct(runs.stream().filter(r -> r.trace().equals(trace)).map(RunSummary::policy).toList())) {
            List<RunSummary> pts = runs.stream().filter(r -> r.trace().equals(trace) && r.policy().equals(policy))
                    .sorted(Comparator.comparingDouble(RunSummary::deadlineMs)).toList();
            c.addSeries(policy, pts.stream().mapToDouble(RunSummary::deadlineMs).toArray(),
                    pts.stream().mapToDouble(r -> 100 * r.accuracyAtDeadline()).toArray());
        }
        return c;
    }

    private static CategoryChart missChart(List<RunSummary> runs) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H).title("Deadline-miss rate per trace")
                .xAxisTitle("trace @ deadline").yAxisTitle("deadlines missed (%)").build();
        style(c.getStyler());
        c.getStyler().setXAxisLabelRotation(20);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(Math.max(5.0, runs.stream().mapToDouble(r -> 100 * (1 - r.deadlineHitRate())).max().orElse(0)));
        List<String> cats = distinct(runs.stream().map(r -> shortName(r.trace()) + " @" + (int) r.deadlineMs()).toList());
        for (String policy : distinct(runs.stream().map(RunSummary::policy).toList())) {
            List<Double> v = new ArrayList<>();
            for (String cat : cats) {
                v.add(runs.stream().filter(r -> r.policy().equals(policy) && cat.equals(shortName(r.trace()) + " @" + (int) r.deadlineMs()))
                        .mapToDouble(r -> 100 * (1 - r.deadlineHitRate())).findFirst().orElse(0));
            }
            c.addSeries(policy, cats, v);
        }
        return c;
    }

    private static XYChart bandwidthChart(String trace, String policy, double deadline, List<RequestRecord> rows) {
        XYChart c = new XYChartBuilder().width(W).height(H).title(String.format(java.util.Locale.ROOT,
                "Uplink: the %s planner's estimate vs the trace (%s, %.0f ms)", policy, trace, deadline))
                .xAxisTitle("time (s)").yAxisTitle("Mbps").build();
        style(c.getStyler());
        series(c, "true (trace over the deadline)", rows.stream().filter(r -> !Double.isNaN(r.trueMbps())).toList(), RequestRecord::trueMbps);
        series(c, "estimated", rows.stream().filter(r -> !Double.isNaN(r.estimatedMbps())).toList(), RequestRecord::estimatedMbps);
        return c;
    }

    private static XYChart splitChart(String trace, String policy, double deadline, List<RequestRecord> rows) {
        XYChart c = new XYChartBuilder().width(W).height(H / 2 + 60).title(String.format(java.util.Locale.ROOT,
                "Split chosen by %s (-1: local only, 0: input sent)", policy)).xAxisTitle("time (s)").yAxisTitle("split").build();
        style(c.getStyler());
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(4);
        series(c, "split", rows, r -> r.split()).setMarker(SeriesMarkers.CIRCLE);
        return c;
    }

    /** Adds a series over request start times; an empty one gets a single NaN point so the chart still renders. */
    private static XYSeries series(XYChart c, String name, List<RequestRecord> rows, java.util.function.ToDoubleFunction<RequestRecord> y) {
        double[] x = rows.isEmpty() ? new double[] {0} : rows.stream().mapToDouble(RequestRecord::startS).toArray();
        double[] v = rows.isEmpty() ? new double[] {Double.NaN} : rows.stream().mapToDouble(y).toArray();
        XYSeries s = c.addSeries(name + (rows.isEmpty() ? " (none)" : ""), x, v);
        s.setMarker(SeriesMarkers.NONE);
        return s;
    }

    private static void style(org.knowm.xchart.style.AxesChartStyler s) {
        s.setYAxisDecimalPattern("#0.#");
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartTitleBoxVisible(false);
    }

    /** Renders {@code charts} one below the other into one PNG. */
    private static Path save(Path file, List<? extends Chart<?, ?>> charts) throws IOException {
        int height = charts.stream().mapToInt(Chart::getHeight).sum();
        BufferedImage img = new BufferedImage(W, Math.max(1, height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        int y = 0;
        for (Chart<?, ?> c : charts) {
            Graphics2D part = (Graphics2D) g.create(0, y, W, c.getHeight());
            c.paint(part, W, c.getHeight());
            part.dispose();
            y += c.getHeight();
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    private static String shortName(String trace) {
        return trace.length() <= 22 ? trace : trace.substring(0, 21) + "…";
    }

    private static List<String> distinct(List<String> in) {
        Set<String> s = new LinkedHashSet<>(in);
        return new ArrayList<>(s);
    }
}
