package io.cleave.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's resident memory as Linux reports it in {@code /proc/PID/status}.
 *
 * @param rssKiB VmRSS, resident now
 * @param hwmKiB VmHWM, the peak resident so far
 */
record ProcMemory(long rssKiB, long hwmKiB) {
    /** Reads it for {@code pid}; fails without Linux's /proc or once the process is gone. */
    static ProcMemory of(long pid) throws IOException {
        long rss = -1;
        long hwm = -1;
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("VmHWM:")) {
                hwm = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        if (rss < 0 || hwm < 0) {
            throw new IOException("/proc/" + pid + "/status has no VmRSS/VmHWM (this benchmark needs Linux)");
        }
        return new ProcMemory(rss, hwm);
    }

    /**
     * The proportional set size from {@code /proc/PID/smaps_rollup}: resident memory with each page counted once however
     * often it is mapped. ZGC (JDK 17) maps its heap three times, and VmRSS counts a page once per view it was touched
     * through: up to three times the heap (measured: VmRSS 2.2 GB, PSS 0.9 GB, for 0.8 GB of heap committed).
     */
    static long pssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("/proc/" + pid + "/smaps_rollup has no Pss (this needs Linux 4.14 or later)");
    }

    /** This JVM's own. */
    static ProcMemory self() throws IOException {
        return of(ProcessHandle.current().pid());
    }
}
