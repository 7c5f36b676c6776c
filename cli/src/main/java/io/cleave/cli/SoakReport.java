package io.cleave.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonNull;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSerializer;
import io.cleave.core.pack.ModelPack;
import io.cleave.experiment.Progress;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the soak prints: the set-up and the ramp at once, a timeline line as each interval ends, then the
 * accounting, the restart and the memory trends; or all of it as one JSON object at the end.
 */
final class SoakReport {
    /** One timeline interval: requests ended in it, and the memory at its end. */
    record Line(double seconds, double endedPerSecond, double onTimePercent, long late, long refused, long failed, long cancelled,
            long lost, double cloudPercent, double workerRssMiB, double edgeRssMiB, double edgePssMiB, double edgeHeapAfterGcMiB) {}

    /**
     * The worker's kill and restart, in seconds since the soak began or since the kill; {@code meanwhile}: requests ended from
     * the kill to the first cloud answer after it (or to the end).
     */
    record Restart(double killedAtSeconds, double listeningAtSeconds, double listeningAfterSeconds, double cloudBackAfterSeconds, int port,
            SoakTally.Snapshot meanwhile) {}

    private final boolean json;
    private final ModelPack pack;
    private final int kMax;
    private final RotatingPlanner planner;
    private final long deadlineMs;
    private final double duration;
    private final double warmUpSeconds;
    private final double lineSeconds;
    private final double cancelShare;
    private final List<Line> lines = new ArrayList<>();
    private final List<Map<String, Object>> ramp = new ArrayList<>();
    private int clients;
    private SoakTally.Snapshot previous;
    private double previousSeconds;

    SoakReport(boolean json, ModelPack pack, int kMax, RotatingPlanner planner, long deadlineMs, double duration, double warmUpSeconds,
            double lineSeconds, double cancelShare) {
        this.json = json;
        this.pack = pack;
        this.kMax = kMax;
        this.planner = planner;
        this.deadlineMs = deadlineMs;
        this.duration = duration;
        this.warmUpSeconds = warmUpSeconds;
        this.lineSeconds = lineSeconds;
        this.cancelShare = cancelShare;
    }

    double warmUpSeconds() {
        return warmUpSeconds;
    }

    void start(int port) {
        if (!pack.trained()) {
            print("%s%n", Untrained.line(pack));
        }
        print("soak: pack %s (%d blocks, the edge holds %d), deadline %d ms, %.1f min; edge in this JVM (%s), worker child process "
                + "on 127.0.0.1:%d (G1, nice 10), plaintext gRPC on loopback%n", pack.id(), pack.blockCount(), kMax, deadlineMs, duration / 60,
                collectors(), port);
        print("plans in rotation: %s; %.0f%% of requests cancelled by the client within %d ms of sending; worker killed (SIGKILL) and "
                + "restarted on the same port at %.0f s%n", String.join(", ", planner.labels()), cancelShare * 100, deadlineMs / 4, duration / 2);
    }

    void ramp(List<double[]> steps, int chosen) {
        for (double[] s : steps) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clients", (int) s[0]);
            m.put("onTimePerSecond", s[1]);
            m.put("refusedPercent", s[2]);
            ramp.add(m);
        }
        print("ramp (on-time answers/s per closed-loop clients): %s; saturation at %d clients%n", steps.stream()
                .map(s -> String.format(Locale.ROOT, "%d: %.0f/s", (int) s[0], s[1])).collect(Collectors.joining(", ")), chosen);
    }

    void soaking(int clients) {
        this.clients = clients;
        print("soaking with %d clients; a line every %.0f s (requests ended in it), memory at its end; warm-up: the first %.0f s%n", clients,
                lineSeconds, warmUpSeconds);
        print("%7s %8s %8s %6s %8s %7s %10s %5s %7s %11s %9s %9s %13s%n", "time", "ended/s", "on-time", "late", "refused", "failed",
                "cancelled", "LOST", "cloud", "worker RSS", "edge RSS", "edge PSS", "edge heap");
        print("%7s %8s %8s %6s %8s %7s %10s %5s %7s %11s %9s %9s %13s%n", "s", "", "%", "", "", "", "", "", "%", "MiB", "MiB", "MiB",
                "after GC MiB");
    }

    /** Ends a timeline interval at {@code s}; called by one thread at a time. */
    synchronized void line(SoakMemory.Sample s, SoakTally.Snapshot now) {
        SoakTally.Snapshot d = previous == null ? now : now.minus(previous);
        double span = s.seconds() - previousSeconds;
        previous = now;
        previousSeconds = s.seconds();
        long judged = d.ended() - d.get(SoakTally.Result.CANCELLED);
        Line l = new Line(s.seconds(), span > 0 ? d.ended() / span : 0, judged == 0 ? Double.NaN : 100.0 * d.get(SoakTally.Result.ON_TIME) / judged,
                d.get(SoakTally.Result.LATE), d.refused(), d.get(SoakTally.Result.FAILED), d.get(SoakTally.Result.CANCELLED),
                d.get(SoakTally.Result.LOST), d.answered() == 0 ? Double.NaN : 100.0 * d.fromCloud() / d.answered(),
                s.workerRssKiB() < 0 ? Double.NaN : s.workerRssKiB() / 1024.0, s.edgeRssKiB() / 1024.0, s.edgePssKiB() / 1024.0,
                s.edgeHeapAfterGcBytes() / 1048576.0);
        lines.add(l);
        print("%7.0f %8.1f %8.2f %6d %8d %7d %10d %5d %7.1f %11.1f %9.1f %9.1f %13.1f%n", l.seconds(), l.endedPerSecond(), l.onTimePercent(),
                l.late(), l.refused(), l.failed(), l.cancelled(), l.lost(), l.cloudPercent(), l.workerRssMiB(), l.edgeRssMiB(), l.edgePssMiB(),
                l.edgeHeapAfterGcMiB());
    }

    /** Prints the accounting, the restart and the memory trends; returns the exit code: 0 when nothing was lost or failed. */
    synchronized int summary(SoakTally tally, double seconds, Restart restart, List<SoakMemory.Trend> memory, List<SoakMemory.Sample> samples) {
        SoakTally.Snapshot t = tally.snapshot();
        long lost = t.get(SoakTally.Result.LOST);
        long failed = t.get(SoakTally.Result.FAILED);
        boolean addsUp = t.sent() == t.ended();
        boolean pass = lost == 0 && failed == 0 && addsUp;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pack", pack.id());
        out.put("trained", pack.trained());
        out.put("kMax", kMax);
        out.put("deadlineMs", deadlineMs);
        out.put("seconds", seconds);
        out.put("clients", clients);
        out.put("ramp", ramp);
        out.put("cancelShare", cancelShare);
        out.put("edgeCollectors", collectors());
        out.put("plans", planner.labels());
        out.put("outcomes", outcomes(tally, t));
        out.put("endedPerSecond", t.ended() / seconds);
        out.put("answeredPerSecond", t.answered() / seconds);
        out.put("latencyP50Ms", tally.latencyMillis(50));
        out.put("latencyP99Ms", tally.latencyMillis(99));
        out.put("cloudPercent", t.answered() == 0 ? Double.NaN : 100.0 * t.fromCloud() / t.answered());
        List<Map<String, Object>> perPlan = new ArrayList<>();
        for (int i = 0; i < tally.plans().size(); i++) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("plan", tally.plans().get(i));
            p.put("answered", tally.answers(i));
            p.put("fromCloud", tally.cloudAnswers(i));
            perPlan.add(p);
        }
        out.put("perPlan", perPlan);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("killedAtSeconds", restart.killedAtSeconds());
        r.put("port", restart.port());
        r.put("listeningAfterSeconds", restart.listeningAfterSeconds());
        r.put("cloudBackAfterSeconds", restart.cloudBackAfterSeconds());
        r.put("meanwhile", outcomes(null, restart.meanwhile()));
        out.put("restart", r);
        out.put("warmUpSeconds", warmUpSeconds);
        out.put("memory", memory);
        out.put("timeline", lines);
        out.put("samples", samples);
        out.put("examples", tally.examples());
        out.put("countsAddUp", addsUp);
        out.put("pass", pass);
        if (json) {
            JsonSerializer<Double> finite = (v, type, ctx) -> v.isNaN() || v.isInfinite() ? JsonNull.INSTANCE : new JsonPrimitive(v);
            System.out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().registerTypeAdapter(Double.class, finite)
                    .registerTypeAdapter(double.class, finite).create().toJson(out));
            return pass ? 0 : 1;
        }
        print("%nrequests sent in %.1f s: %d = %d on time + %d late + %d refused (RESOURCE_EXHAUSTED %d, DEADLINE_EXCEEDED %d; %d of them "
                + "after the deadline) + %d failed + %d cancelled (of %d cancels tried; the others had ended first) + %d LOST%s%n", seconds, t.sent(),
                t.get(SoakTally.Result.ON_TIME), t.get(SoakTally.Result.LATE), t.refused(), tally.refusedExhausted(), tally.refusedOverloaded(),
                t.get(SoakTally.Result.REFUSED_LATE), failed, t.get(SoakTally.Result.CANCELLED), tally.cancelAttempts(), lost,
                addsUp ? "" : " (DOES NOT ADD UP: " + t.ended() + " ended)");
        print("throughput: %.1f requests ended/s, %.1f answered/s; latency of answers p50 %.2f ms, p99 %.2f ms; %.1f%% answered by the cloud%n",
                t.ended() / seconds, t.answered() / seconds, tally.latencyMillis(50), tally.latencyMillis(99),
                t.answered() == 0 ? Double.NaN : 100.0 * t.fromCloud() / t.answered());
        print("answers per plan (from the cloud): %s%n", perPlan.stream().map(p -> p.get("plan") + " " + p.get("answered") + " ("
                + p.get("fromCloud") + ")").collect(Collectors.joining(", ")));
        SoakTally.Snapshot m = restart.meanwhile();
        print("worker restart: killed at %.1f s; the new worker listened on port %d %.1f s later; %s; meanwhile %d answered (%d on time, "
                + "%d from the cloud), %d refused, %d failed, %d cancelled, %d lost%n", restart.killedAtSeconds(), restart.port(),
                restart.listeningAfterSeconds(), Double.isNaN(restart.cloudBackAfterSeconds()) ? "NO cloud answer again before the end"
                        : String.format(Locale.ROOT, "the first cloud answer %.1f s after the kill", restart.cloudBackAfterSeconds()),
                m.answered(), m.get(SoakTally.Result.ON_TIME), m.fromCloud(), m.refused(), m.get(SoakTally.Result.FAILED),
                m.get(SoakTally.Result.CANCELLED), m.get(SoakTally.Result.LOST));
        print("%nmemory after warm-up (MiB)          %8s %10s %8s %15s %8s%n", "from s", "warm-up", "end", "slope MiB/min", "samples");
        for (SoakMemory.Trend tr : memory) {
            print("%-35s %8.0f %10.1f %8.1f %15.2f %8d%n", tr.what(), tr.fromSeconds(), tr.warmUpMiB(), tr.endMiB(), tr.slopeMiBPerMinute(),
                    tr.samples());
        }
        tally.examples().forEach(e -> print("  %s%n", e));
        print("%n%s%n", pass ? String.format(Locale.ROOT, "PASS: nothing lost; each of %d requests answered, refused with a precise status, "
                + "or cancelled", t.sent()) : String.format(Locale.ROOT, "FAIL: %d lost, %d failed%s", lost, failed,
                addsUp ? "" : ", and the counts do not add up"));
        return pass ? 0 : 1;
    }

    private static Map<String, Object> outcomes(SoakTally tally, SoakTally.Snapshot t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("sent", t.sent());
        o.put("ended", t.ended());
        for (SoakTally.Result r : SoakTally.Result.values()) {
            o.put(r.name().toLowerCase(Locale.ROOT), t.get(r));
        }
        o.put("fromCloud", t.fromCloud());
        if (tally != null) {
            o.put("refusedResourceExhausted", tally.refusedExhausted());
            o.put("refusedDeadlineExceeded", tally.refusedOverloaded());
            o.put("cancelAttempts", tally.cancelAttempts());
        }
        return o;
    }

    private static String collectors() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).collect(Collectors.joining(", "));
    }

    private void print(String format, Object... args) {
        if (!json) {
            Progress.print(System.out, String.format(Locale.ROOT, format, args)); // above the bar, on a terminal
        }
    }
}
