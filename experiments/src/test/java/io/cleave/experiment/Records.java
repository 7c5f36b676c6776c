package io.cleave.experiment;

/** Hand-made request records for tests. */
final class Records {
    private Records() {}

    /** A request answered by an exit after {@code block}, {@code correct} or not, {@code inTime} or not. */
    static RequestRecord of(String device, String policy, int request, int block, boolean correct, boolean inTime) {
        return of("trace-a", device, policy, 50, request, block, correct, inTime);
    }

    static RequestRecord of(String trace, String device, String policy, double deadlineMs, int request, int block, boolean correct,
            boolean inTime) {
        return new RequestRecord(trace, device, policy, deadlineMs, request, request * 0.02, block > 4, block > 4 ? 2 : -1,
                block > 4 ? "FP16" : "", block / 2 - 1, block, block > 4, correct, inTime ? deadlineMs / 2 : deadlineMs * 1.5, block > 4 ? 1000 : 0,
                inTime, Double.NaN, 1.0);
    }
}
