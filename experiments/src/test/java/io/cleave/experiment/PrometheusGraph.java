package io.cleave.experiment;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a Prometheus {@code query_range} answer (the API's JSON, a matrix) as a PNG line chart, the way the
 * README's graph of the compose stack was made: one line per series, a colour per value of the series' last
 * label and, with two labels or more, a line style per value of its first. Not a test: a tool run by hand, kept here so that it compiles
 * with the build.
 * <pre>
 * mvn -B -ntp -q -o test-compile -pl experiments -am
 * java -cp "experiments/target/test-classes:cli/target/lib/*" io.cleave.experiment.PrometheusGraph \
 *     docs/prometheus/requests-by-source.json docs/img/prometheus-requests-by-source.png \
 *     "title" "requests/s" [T0_EPOCH_S]
 * </pre>
 */
public final class PrometheusGraph {
    private static final Color[] COLOURS = {new Color(0x0072B2), new Color(0x009E73), new Color(0xD55E00), new Color(0xCC79A7)};
    private static final BasicStroke[] STROKES = {SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT, SeriesLines.DASH_DOT};

    private PrometheusGraph() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: PrometheusGraph QUERY_RANGE.json OUT.png TITLE Y_LABEL [T0_EPOCH_S]");
        }
        System.setProperty("java.awt.headless", "true");
        JsonObject answer = JsonParser.parseString(Files.readString(Path.of(args[0]))).getAsJsonObject();
        if (!"success".equals(answer.get("status").getAsString()) || !"matrix".equals(answer.getAsJsonObject("data").get("resultType").getAsString())) {
            throw new IllegalArgumentException(args[0] + ": not a successful query_range answer (a matrix)");
        }
        List<JsonObject> series = new ArrayList<>();
        answer.getAsJsonObject("data").getAsJsonArray("result").forEach(e -> series.add(e.getAsJsonObject()));
        double t0 = args.length > 4 ? Double.parseDouble(args[4])
                : series.stream().mapToDouble(s -> s.getAsJsonArray("values").get(0).getAsJsonArray().get(0).getAsDouble()).min().orElse(0);

        XYChart chart = new XYChartBuilder().width(900).height(420).title(args[2]).xAxisTitle("seconds since the experiment container was started")
                .yAxisTitle(args[3]).build();
        chart.getStyler().setXAxisDecimalPattern("0").setYAxisMin(0.0);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE).setChartBackgroundColor(Color.WHITE);
        Map<String, Color> colours = new LinkedHashMap<>();
        Map<String, BasicStroke> strokes = new LinkedHashMap<>();
        for (JsonObject s : series) {
            List<String> labels = new ArrayList<>();
            s.getAsJsonObject("metric").entrySet().forEach(l -> labels.add(l.getValue().getAsString()));
            String last = labels.isEmpty() ? "" : labels.get(labels.size() - 1);
            String first = labels.size() < 2 ? "" : labels.get(0);
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (JsonElement v : s.getAsJsonArray("values")) {
                double value = Double.parseDouble(v.getAsJsonArray().get(1).getAsString()); // "NaN" when 0/0
                if (Double.isFinite(value)) {
                    x.add(v.getAsJsonArray().get(0).getAsDouble() - t0);
                    y.add(value);
                }
            }
            if (x.isEmpty()) {
                continue;
            }
            XYSeries line = chart.addSeries(labels.isEmpty() ? "value" : String.join(" ", labels), x, y);
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(colours.computeIfAbsent(last, k -> COLOURS[colours.size() % COLOURS.length]));
            line.setLineStyle(strokes.computeIfAbsent(first, k -> STROKES[strokes.size() % STROKES.length]));
        }
        BitmapEncoder.saveBitmap(chart, args[1], BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + args[1]);
    }
}
