package io.cleave.experiment;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 * The experiment's PNG plots: the score (accuracy at deadline, or exit depth for an untrained pack)
 * vs deadline per policy with the hindsight bound (one panel per trace and device), deadline-miss
 * rate per policy and deadline (small multiples: one panel per trace and device, so labels never
 * crowd), and the planner over time (estimated vs true uplink bandwidth and the split it chose, one
 * row per trace). Every policy keeps one colour across plots, from the Okabe–Ito palette
 * (distinguishable with colour-blindness too).
 */
public final class Plots {
    static final int W = 900;
    static final int H = 420;
    static final int PANEL_H = 280;

    /** Okabe–Ito, fixed per known policy; policies beyond them take {@link #EXTRA} in order of appearance. */
    private static final Map<String, Color> POLICY_COLOURS = Map.of(
            "cleave", new Color(0x0072B2), // blue
            "oracle", new Color(0x000000), // black
            "edge-only", new Color(0xE69F00), // orange
            "cloud-only", new Color(0x009E73), // bluish green
            "fixed-2", new Color(0xCC79A7), // reddish purple
            "neurosurgeon", new Color(0xD55E00), // vermillion
            "edgent", new Color(0x56B4E9)); // sky blue
    private static final Color[] EXTRA = {new Color(0x8C6D31), new Color(0x7F7F7F), new Color(0xBCBD22), new Color(0x9467BD),
        new Color(0x17BECF), new Color(0xF0E442)};
    static final Color BOUND = new Color(0x999999);

    private Plots() {}

    /** Writes the plots into {@code out}; returns their paths. */
    public static List<Path> write(Path out, List<RequestRecord> rows, List<RunSummary> runs, Metric metric) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> traces = distinct(runs.stream().map(RunSummary::trace).toList());
        Map<String, Color> colours = colours(distinct(runs.stream().map(RunSummary::policy).toList()));
        List<Hindsight.Bound> bounds = Hindsight.of(rows);
        List<RequestRecord.Cell> panels = new ArrayList<>(new LinkedHashSet<>(runs.stream()
                .map(r -> new RequestRecord.Cell(r.trace(), r.device(), 0)).toList()));
        List<Path> files = new ArrayList<>();
        files.add(save(out.resolve("accuracy-vs-deadline.png"), panels.stream()
                .map(p -> scoreChart(p.trace(), p.device(), runs, bounds, metric, colours)).toList()));
        double maxMiss = runs.stream().mapToDouble(r -> 100 * (1 - r.deadlineHitRate())).max().orElse(0);
        files.add(save(out.resolve("deadline-miss-rate.png"), panels.stream()
                .map(p -> missChart(p.trace(), p.device(), runs, colours, maxMiss)).toList()));
        List<Chart<?, ?>> timeline = new ArrayList<>();
        for (String t : traces) {
            String policy = timelinePolicy(t, runs);
            String device = runs.stream().filter(r -> r.trace().equals(t)).map(RunSummary::device).findFirst().orElse("");
            double deadline = runs.stream().filter(r -> r.trace().equals(t)).mapToDouble(RunSummary::deadlineMs).min().orElse(0);
            List<RequestRecord> sel = rows.stream().filter(r -> r.trace().equals(t) && r.device().equals(device) && r.policy().equals(policy)
                    && r.deadlineMs() == deadline).sorted(Comparator.comparingDouble(RequestRecord::startS)).toList();
            timeline.add(bandwidthChart(t, policy, deadline, sel));
            timeline.add(splitChart(t, policy, deadline, sel));
        }
        files.add(save(out.resolve("planner-timeline.png"), timeline));
        return files;
    }

    /** Each policy's colour: its own when known, else the next spare one. */
    static Map<String, Color> colours(List<String> policies) {
        Map<String, Color> out = new LinkedHashMap<>();
        int spare = 0;
        for (String p : policies) {
            Color c = POLICY_COLOURS.get(p);
            out.put(p, c != null ? c : EXTRA[spare++ % EXTRA.length]);
        }
        return out;
    }

    /** The planner worth watching: cleave if it ran, else the first policy with a bandwidth estimate. */
    private static String timelinePolicy(String trace, List<RunSummary> runs) {
        List<String> policies = runs.stream().filter(r -> r.trace().equals(trace)).map(RunSummary::policy).distinct().toList();
        return policies.contains("cleave") ? "cleave" : policies.get(0);
    }

    private static XYChart scoreChart(String trace, String device, List<RunSummary> runs, List<Hindsight.Bound> bounds, Metric metric,
            Map<String, Color> colours) {
        boolean acc = metric == Metric.ACCURACY;
        XYChart c = new XYChartBuilder().width(W).height(H).title((acc ? "Accuracy at deadline: " : "Exit depth at deadline (untrained pack): ")
                + trace + " on " + device).xAxisTitle("deadline (ms)").yAxisTitle(acc ? "accuracy at deadline (%)" : "mean block of the answering exit")
                .build();
        style(c.getStyler());
        double scale = acc ? 100 : 1;
        List<RunSummary> here = runs.stream().filter(r -> r.trace().equals(trace) && r.device().equals(device)).toList();
        for (String policy : distinct(here.stream().map(RunSummary::policy).toList())) {
            List<RunSummary> pts = here.stream().filter(r -> r.policy().equals(policy)).sorted(Comparator.comparingDouble(RunSummary::deadlineMs))
                    .toList();
            XYSeries s = c.addSeries(policy, pts.stream().mapToDouble(RunSummary::deadlineMs).toArray(),
                    pts.stream().mapToDouble(r -> scale * r.score(metric).estimate()).toArray());
            s.setLineColor(colours.get(policy));
            s.setMarkerColor(colours.get(policy));
        }
        List<Hindsight.Bound> hb = bounds.stream().filter(b -> b.trace().equals(trace) && b.device().equals(device))
                .sorted(Comparator.comparingDouble(Hindsight.Bound::deadlineMs)).toList();
        if (!hb.isEmpty()) {
            XYSeries s = c.addSeries("best of policies run (hindsight)", hb.stream().mapToDouble(Hindsight.Bound::deadlineMs).toArray(),
                    hb.stream().mapToDouble(b -> scale * b.score(metric).estimate()).toArray());
            s.setLineColor(BOUND);
            s.setMarkerColor(BOUND);
            s.setLineStyle(new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f));
        }
        return c;
    }

    /** One panel: deadlines on the x axis (a handful of labels), a bar per policy; every panel shares {@code maxMiss}. */
    private static CategoryChart missChart(String trace, String device, List<RunSummary> runs, Map<String, Color> colours, double maxMiss) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(PANEL_H).title("Deadlines missed: " + trace + " on " + device)
                .xAxisTitle("deadline").yAxisTitle("missed (%)").build();
        style(c.getStyler());
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(Math.max(5.0, Math.ceil(maxMiss * 1.1)));
        c.getStyler().setOverlapped(false);
        List<RunSummary> here = runs.stream().filter(r -> r.trace().equals(trace) && r.device().equals(device)).toList();
        List<Double> deadlines = here.stream().map(RunSummary::deadlineMs).distinct().sorted().toList();
        List<String> cats = deadlines.stream().map(d -> String.format(java.util.Locale.ROOT, "%.0f ms", d)).toList();
        for (String policy : distinct(here.stream().map(RunSummary::policy).toList())) {
            List<Double> v = new ArrayList<>();
            for (double d : deadlines) {
                // a run that did not happen is a gap, not a zero
                v.add(here.stream().filter(r -> r.policy().equals(policy) && r.deadlineMs() == d)
                        .mapToDouble(r -> 100 * (1 - r.deadlineHitRate())).boxed().findFirst().orElse(Double.NaN));
            }
            c.addSeries(policy, cats, v).setFillColor(colours.get(policy));
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

    private static List<String> distinct(List<String> in) {
        Set<String> s = new LinkedHashSet<>(in);
        return new ArrayList<>(s);
    }
}
