package dev.pgshift.report;

/** How a run or one of its phases ended. */
public enum Outcome {
    SUCCEEDED, FAILED, STOPPED, SKIPPED
}
