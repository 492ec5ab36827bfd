package dev.pgshift.verify;

import java.time.Duration;

/** One post-migration check: its name, outcome, duration and what it found. */
public record CheckResult(String name, Status status, Duration duration, String detail) {

    /** How a check ended; FAILED fails the run with exit 6, WARNED only reports. */
    public enum Status {
        PASSED, FAILED, WARNED, SKIPPED
    }
}
