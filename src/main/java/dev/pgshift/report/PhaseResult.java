package dev.pgshift.report;

import java.time.Duration;

/** One phase of a run (preflight, connect, lock, plan, migrate, ...), how it ended and how long it took. */
public record PhaseResult(String name, Outcome outcome, Duration duration, String detail) {
}
