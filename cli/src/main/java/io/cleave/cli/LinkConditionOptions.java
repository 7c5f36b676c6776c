package io.cleave.cli;

import io.cleave.link.LinkConditions;
import picocli.CommandLine.Option;

/** Delay, loss and outage options shared by {@code link} and {@code experiment}. */
final class LinkConditionOptions {
    @Option(names = "--delay-ms", defaultValue = "0", description = "one-way propagation delay added to each direction (default: ${DEFAULT-VALUE})")
    double delayMs;

    @Option(names = "--loss", defaultValue = "0", description = "per-packet loss probability, each direction (default: ${DEFAULT-VALUE})")
    double loss;

    @Option(names = "--loss-recovery-ms", defaultValue = "0",
            description = "how late a lost packet arrives; 0: two round trips, at least 10 ms (default: ${DEFAULT-VALUE})")
    double lossRecoveryMs;

    @Option(names = "--outage-every-s", defaultValue = "0", description = "an outage starts every this many seconds; 0: none")
    double outageEveryS;

    @Option(names = "--outage-for-s", defaultValue = "0", description = "how long each outage lasts")
    double outageForS;

    LinkConditions conditions() {
        return new LinkConditions(delayMs, loss, lossRecoveryMs, outageEveryS, outageForS);
    }
}
