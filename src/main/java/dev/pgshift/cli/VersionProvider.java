package dev.pgshift.cli;

import org.eclipse.microprofile.config.ConfigProvider;
import picocli.CommandLine.IVersionProvider;

/** pgshift's version, from the build (quarkus.application.version). */
final class VersionProvider implements IVersionProvider {

    public static String version() {
        return ConfigProvider.getConfig().getOptionalValue("quarkus.application.version", String.class).orElse("unknown");
    }

    @Override
    public String[] getVersion() {
        return new String[] {"pgshift " + version()};
    }
}
