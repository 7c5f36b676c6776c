package io.cleave.core.time;

/** A monotonic nanosecond clock, injected wherever time is read so tests can drive it. */
@FunctionalInterface
public interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
