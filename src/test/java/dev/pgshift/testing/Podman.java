package dev.pgshift.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The container engine of ContainerIT: podman with runc, set up by {@code .ci/container-tools.sh} (installs podman, runc
 * and debootstrap from Debian when missing, writes the containers.conf this machine needs, makes the test base image
 * from Debian's packages; all cached under ~/.cache/pgshift). When that fails the tests fail and say what to install:
 * an image that was never built is no image that passed.
 */
public final class Podman {
    private static Podman instance;

    private final Path containersConf;
    private final String baseImage;

    private Podman(Path containersConf, String baseImage) {
        this.containersConf = containersConf;
        this.baseImage = baseImage;
    }

    public static synchronized Podman get() {
        if (instance == null) {
            instance = setUp();
        }
        return instance;
    }

    private static Podman setUp() {
        Path script = Path.of(".ci/container-tools.sh").toAbsolutePath();
        try {
            Path err = Files.createTempFile("container-tools", ".log");
            Process p = new ProcessBuilder("bash", script.toString()).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(script + " did not finish in 15 minutes; its log: " + err);
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(script + " failed (exit " + p.exitValue() + "):\n" + Files.readString(err)
                        + "\nContainerIT needs podman, runc and debootstrap (Debian: apt-get install podman runc debootstrap), "
                        + "run as root, with Debian's package mirror reachable.");
            }
            Map<String, String> settings = new java.util.HashMap<>();
            out.lines().filter(l -> l.contains("=")).forEach(l -> settings.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
            if (!settings.containsKey("CONTAINERS_CONF") || !settings.containsKey("BASE_IMAGE")) {
                throw new AssertionError(script + " printed no CONTAINERS_CONF= and BASE_IMAGE= lines:\n" + out);
            }
            return new Podman(Path.of(settings.get("CONTAINERS_CONF")), settings.get("BASE_IMAGE"));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The Debian base with a Java runtime that stands in for the shipped image's eclipse-temurin base. */
    public String baseImage() {
        return baseImage;
    }

    public ProcessBuilder command(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of("podman"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("CONTAINERS_CONF", containersConf.toString());
        return pb;
    }

    /** Runs podman to its end; output is stdout and stderr together. */
    public K8sTools.Result exec(String... args) {
        try {
            Process p = command(List.of(args)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("podman " + String.join(" ", args) + " did not finish");
            }
            return new K8sTools.Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("cannot run podman: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Like {@link #exec} but fails the test on a non-zero exit. */
    public String ok(String... args) {
        K8sTools.Result r = exec(args);
        if (r.code() != 0) {
            throw new AssertionError("podman " + String.join(" ", args) + " exited " + r.code() + ":\n" + r.output());
        }
        return r.output();
    }
}
