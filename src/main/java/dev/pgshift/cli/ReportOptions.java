package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where the run's report goes besides stdout and the history table: the commands that record a run. */
final class ReportOptions implements SettingFlags {

    @Option(names = "--report-file", paramLabel = "FILE", description = "write the JSON report here (format: docs/report.schema.json; "
            + "env PGSHIFT_REPORT_FILE)")
    String reportFile;

    @Option(names = "--termination-log", paramLabel = "FILE", description = "compact report (at most 4096 bytes) for Kubernetes; "
            + "default /dev/termination-log, written only in a Kubernetes pod (KUBERNETES_SERVICE_HOST set); given explicitly, written anywhere (env PGSHIFT_TERMINATION_LOG)")
    String terminationLog;

    @Override
    public void addTo(Map<Setting, String> flags) {
        SettingFlags.put(flags, Setting.REPORT_FILE, reportFile);
        SettingFlags.put(flags, Setting.TERMINATION_LOG, terminationLog);
    }
}
