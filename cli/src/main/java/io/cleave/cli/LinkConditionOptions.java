package io.cleave.cli;

import io.cleave.link.LinkConditions;
import picocli.CommandLine.Option;

/** Delay, loss and outage options shared by {@code link} and {@code experiment}. */
final class LinkConditionOptions {
    @Option(names = "--delay-ms", defaultValue = "${env:CLEAVE_LINK_DELAY_MS:-0}",
            description = "one-way propagation delay added to each direction (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_DELAY_MS)")
    double delayMs;

    @Option(names = "--loss", defaultValue = "${env:CLEAVE_LINK_LOSS:-0}",
            description = "per-packet loss probability, each direction (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_LOSS)")
    double loss;

    @Option(names = "--loss-recovery-ms", defaultValue = "${env:CLEAVE_LINK_LOSS_RECOVERY_MS:-0}",
            description = "how late a lost packet arrives; 0: two round trips, at least 10 ms (default: ${DEFAULT-VALUE}; "
                    + "env CLEAVE_LINK_LOSS_RECOVERY_MS)")
    double lossRecoveryMs;

    @Option(names = "--outage-every-s", defaultValue = "${env:CLEAVE_LINK_OUTAGE_EVERY_S:-0}",
            description = "an outage starts every this many seconds; 0: none (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_OUTAGE_EVERY_S)")
    double outageEveryS;

    @Option(names = "--outage-for-s", defaultValue = "${env:CLEAVE_LINK_OUTAGE_FOR_S:-0}",
            description = "how long each outage lasts (default: ${DEFAULT-VALUE}; env CLEAVE_LINK_OUTAGE_FOR_S)")
    double outageForS;

    LinkConditions conditions() {
        return new LinkConditions(delayMs, loss, lossRecoveryMs, outageEveryS, outageForS);
    }
}
