package io.cleave.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The soak's memory samples and what they show: each of the worker's resident memory, this JVM's
 * (the edge's) resident memory and its proportional set size (see {@link ProcMemory#pssKiB}), its heap in use, its heap after the last collection (the honest
 * number for a leak: the heap in use moves with garbage not yet collected), and its heap committed
 * (what the collector holds from the OS, which the RSS follows). After warm-up each is
 * summed up as its first and last value and its least-squares slope.
 */
final class SoakMemory {
    /**
     * One sample; -1 where nothing could be read (the worker between kill and restart).
     *
     * @param seconds since the soak began
     * @param worker which worker process: 1 the first, 2 the one started after the kill
     */
    record Sample(double seconds, int worker, long workerRssKiB, long edgeRssKiB, long edgePssKiB, long edgeHeapUsedBytes,
            long edgeHeapAfterGcBytes, long edgeHeapCommittedBytes) {}

    /**
     * A quantity over the samples after warm-up.
     *
     * @param slopeMiBPerMinute least squares over those samples; NaN with fewer than two
     */
    record Trend(String what, double fromSeconds, double warmUpMiB, double endMiB, double slopeMiBPerMinute, int samples) {}

    private final List<Sample> samples = new ArrayList<>();

    /** Reads every quantity now; {@code workerPid} -1: no worker running. */
    synchronized Sample sample(double seconds, int worker, long workerPid) {
        long workerRss = -1;
        if (workerPid > 0) {
            try {
                workerRss = ProcMemory.of(workerPid).rssKiB();
            } catch (IOException e) {
                // killed between being chosen and being read
            }
        }
        long edgeRss;
        long edgePss;
        try {
            edgeRss = ProcMemory.self().rssKiB();
            edgePss = ProcMemory.pssKiB(ProcessHandle.current().pid());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        Sample s = new Sample(seconds, worker, workerRss, edgeRss, edgePss, heap.getUsed(), heapAfterGc(), heap.getCommitted());
        samples.add(s);
        return s;
    }

    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    /**
     * The heap in use after each heap pool's last collection, summed: what the collector could not free
     * (G1: eden, survivor and old; ZGC: its one pool). No collection is forced.
     */
    static long heapAfterGc() {
        long used = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = p.getType() == MemoryType.HEAP ? p.getCollectionUsage() : null;
            if (after != null) {
                used += after.getUsed();
            }
        }
        return used;
    }

    /**
     * The trends after warm-up: the first worker from {@code warmUpSeconds} until the kill, the second from
     * {@code warmUpSeconds} after it listened ({@code restartedAtSeconds}), the edge from {@code warmUpSeconds}.
     */
    List<Trend> trends(double warmUpSeconds, double restartedAtSeconds) {
        List<Sample> all = samples();
        double second = restartedAtSeconds + warmUpSeconds;
        return List.of(
                trend("worker RSS, first process", warmUpSeconds, all, s -> s.worker() == 1 && s.seconds() >= warmUpSeconds
                        && s.workerRssKiB() > 0, s -> s.workerRssKiB() / 1024.0),
                trend("worker RSS, after the restart", second, all, s -> s.worker() == 2 && s.seconds() >= second && s.workerRssKiB() > 0,
                        s -> s.workerRssKiB() / 1024.0),
                trend("edge RSS (this JVM)", warmUpSeconds, all, s -> s.seconds() >= warmUpSeconds, s -> s.edgeRssKiB() / 1024.0),
                trend("edge PSS (heap views counted once)", warmUpSeconds, all, s -> s.seconds() >= warmUpSeconds,
                        s -> s.edgePssKiB() / 1024.0),
                trend("edge heap after GC", warmUpSeconds, all, s -> s.seconds() >= warmUpSeconds,
                        s -> s.edgeHeapAfterGcBytes() / 1048576.0),
                trend("edge heap in use (any moment)", warmUpSeconds, all, s -> s.seconds() >= warmUpSeconds,
                        s -> s.edgeHeapUsedBytes() / 1048576.0),
                // what the collector holds from the OS: the heap's part of the RSS, whatever is live
                trend("edge heap committed", warmUpSeconds, all, s -> s.seconds() >= warmUpSeconds,
                        s -> s.edgeHeapCommittedBytes() / 1048576.0));
    }

    private static Trend trend(String what, double from, List<Sample> all, Predicate<Sample> after,
            java.util.function.ToDoubleFunction<Sample> mib) {
        List<Sample> kept = all.stream().filter(after).toList();
        if (kept.isEmpty()) {
            return new Trend(what, from, Double.NaN, Double.NaN, Double.NaN, 0);
        }
        double[] x = kept.stream().mapToDouble(s -> s.seconds() / 60).toArray();
        double[] y = kept.stream().mapToDouble(mib).toArray();
        return new Trend(what, from, y[0], y[y.length - 1], slope(x, y), kept.size());
    }

    /** The least-squares slope of y over x; NaN with fewer than two distinct x. */
    static double slope(double[] x, double[] y) {
        int n = x.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i] / n;
            my += y[i] / n;
        }
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return n < 2 || sxx == 0 ? Double.NaN : sxy / sxx;
    }
}
