package dev.pgshift.run;

/** How a run or one of its phases ended. */
public enum Outcome {
    SUCCEEDED, FAILED, STOPPED, SKIPPED
}
