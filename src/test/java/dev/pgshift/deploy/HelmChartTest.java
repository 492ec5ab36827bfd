package dev.pgshift.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.testing.K8sTools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Helm chart and the plain manifests, rendered by the real helm and kubectl and parsed into the Kubernetes API types. */
class HelmChartTest {
    private static final Path CHART = Path.of("helm/pgshift");

    private static List<Path> scenarios() throws Exception {
        try (Stream<Path> s = Files.list(CHART.resolve("ci"))) {
            return s.filter(p -> p.toString().endsWith("-values.yaml")).sorted().toList();
        }
    }

    private static K8sTools.Result helm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(K8sTools.helm().toString()));
        cmd.addAll(List.of(args));
        return K8sTools.exec(Path.of("."), cmd.toArray(String[]::new));
    }

    private static List<HasMetadata> render(Path values, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("template", "rel", CHART.toString(), "-f", values.toString()));
        args.addAll(List.of(more));
        K8sTools.Result r = helm(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        return StrictModel.parse(r.output());
    }

    private static Job job(List<HasMetadata> objects, String suffix) {
        return objects.stream().filter(o -> o instanceof Job && o.getMetadata().getName().endsWith(suffix)).map(Job.class::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no Job *" + suffix));
    }

    @Test
    void everyScenarioLintsStrictly() throws Exception {
        assertFalse(scenarios().isEmpty());
        for (Path values : scenarios()) {
            K8sTools.Result r = helm("lint", "--strict", CHART.toString(), "-f", values.toString());
            assertEquals(0, r.code(), values + ":\n" + r.output());
        }
    }

    @Test
    void theMigrationJobIsAHookWithEverySafeguard() throws Exception {
        for (Path values : scenarios()) {
            List<HasMetadata> objects = render(values);
            Job job = job(objects, "-migrate");
            var a = job.getMetadata().getAnnotations();
            assertEquals("pre-install,pre-upgrade", a.get("helm.sh/hook"), values.toString());
            assertEquals("0", a.get("helm.sh/hook-weight"));
            assertTrue(a.get("helm.sh/hook-delete-policy").startsWith("before-hook-creation"), a.toString());
            assertEquals("hook-failed", a.get("helm.sh/hook-output-log-policy"));
            assertNull(job.getSpec().getTtlSecondsAfterFinished(), "no TTL on a hook Job (helm/helm#32586)");
            assertTrue(job.getSpec().getActiveDeadlineSeconds() < 300, "below helm's default --timeout of 5m");
            assertEquals("rel-pgshift-migrate", job.getMetadata().getName(), "no random names");
            assertSafePod(job.getSpec().getTemplate().getSpec(), values);
            assertFailurePolicy(job);

            for (HasMetadata o : objects) {
                String hook = o.getMetadata().getAnnotations() == null ? null : o.getMetadata().getAnnotations().get("helm.sh/hook");
                if (o.getKind().equals("ServiceAccount")) {
                    assertEquals("-10", o.getMetadata().getAnnotations().get("helm.sh/hook-weight"));
                    assertTrue(hook.contains("pre-install"), "exists before the pre-install Job");
                } else if (o.getKind().equals("Secret") || o.getKind().equals("ConfigMap")) {
                    assertEquals("-5", o.getMetadata().getAnnotations().get("helm.sh/hook-weight"), o.getMetadata().getName());
                    assertTrue(hook.contains("pre-install"));
                }
            }
        }
    }

    private static void assertSafePod(PodSpec pod, Path values) {
        assertEquals("Never", pod.getRestartPolicy());
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        Container c = pod.getContainers().get(0);
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertEquals("FallbackToLogsOnError", c.getTerminationMessagePolicy());
        assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")), "an emptyDir for /tmp");
        for (EnvVar e : c.getEnv()) {
            assertNotEquals("PGPASSWORD", e.getName(), values + ": the password comes from a mounted file, never the environment");
        }
    }

    private static void assertFailurePolicy(Job job) {
        List<PodFailurePolicyRule> rules = job.getSpec().getPodFailurePolicy().getRules();
        assertEquals("Ignore", rules.get(0).getAction());
        assertEquals("DisruptionTarget", rules.get(0).getOnPodConditions().get(0).getType());
        assertEquals("FailJob", rules.get(1).getAction());
        assertEquals("NotIn", rules.get(1).getOnExitCodes().getOperator());
        List<Integer> retryable = ExitCode.all().stream().filter(ExitCode::retryable).map(ExitCode::code).toList();
        assertEquals(retryable, rules.get(1).getOnExitCodes().getValues(), "the chart's retryable codes are pgshift's");
    }

    @Test
    void noSecretValueIsRenderedIntoAJob() throws Exception {
        Path values = CHART.resolve("ci/chart-secret-values.yaml");
        K8sTools.Result r = helm("template", "rel", CHART.toString(), "-f", values.toString());
        String password = "change-me-not-a-real-password";
        List<HasMetadata> objects = StrictModel.parse(r.output());
        for (HasMetadata o : objects) {
            if (o instanceof Job j) {
                assertFalse(j.toString().contains(password), "password in " + j.getMetadata().getName());
            }
        }
        assertTrue(objects.stream().anyMatch(o -> o.getKind().equals("Secret")), "the chart made the Secret");
    }

    @Test
    void postBuildsRunAsAPlainJobPerRevisionOrAsAPostHook() throws Exception {
        List<HasMetadata> plain = render(CHART.resolve("ci/post-job-values.yaml"));
        Job post = job(plain, "-post-1"); // named per revision: helm template renders revision 1
        assertTrue(post.getMetadata().getAnnotations() == null || !post.getMetadata().getAnnotations().containsKey("helm.sh/hook"),
                "a plain Job, outside the hooks");
        assertEquals(86400, post.getSpec().getTtlSecondsAfterFinished());
        assertEquals(List.of("run", "--phase", "post"), post.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
        assertEquals(List.of("run", "--phase", "pre", "--rehearse"),
                job(plain, "-migrate").getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
        assertFailurePolicy(post);
        var items = post.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals("migrations")).findFirst()
                .orElseThrow().getConfigMap().getItems();
        assertTrue(items.stream().anyMatch(i -> i.getKey().equals("20240120120000_add_style_index__migration.sql")
                && i.getPath().equals("20240120120000_add_style_index/migration.sql")), "a Prisma folder survives the ConfigMap: " + items);

        Job hook = job(render(CHART.resolve("ci/post-hook-values.yaml")), "-post");
        assertEquals("post-install,post-upgrade", hook.getMetadata().getAnnotations().get("helm.sh/hook"));
        assertNull(hook.getSpec().getTtlSecondsAfterFinished());
    }

    @Test
    void theSchemaRejectsAMisspelledKeyAndAWrongType() {
        Path values = CHART.resolve("ci/default-values.yaml");
        K8sTools.Result typo = helm("template", "rel", CHART.toString(), "-f", values.toString(), "--set", "databse.host=x");
        assertNotEquals(0, typo.code());
        assertTrue(typo.output().contains("databse"), typo.output());
        K8sTools.Result type = helm("template", "rel", CHART.toString(), "-f", values.toString(), "--set-string", "database.port=five");
        assertNotEquals(0, type.code());
        assertTrue(type.output().contains("port"), type.output());
        K8sTools.Result nested = helm("template", "rel", CHART.toString(), "-f", values.toString(), "--set", "backup.keepp=3");
        assertNotEquals(0, nested.code(), nested.output());
        K8sTools.Result missing = helm("template", "rel", CHART.toString(), "--set", "database.name=x");
        assertNotEquals(0, missing.code());
        assertTrue(missing.output().contains("database.host is required"), missing.output());
    }

    @Test
    void thePlainManifestsRenderWithKustomize() throws Exception {
        K8sTools.Result r = K8sTools.exec(Path.of("."), K8sTools.kubectl().toString(), "kustomize", "k8s");
        assertEquals(0, r.code(), r.output());
        List<HasMetadata> objects = StrictModel.parse(r.output());
        Job job = objects.stream().filter(Job.class::isInstance).map(Job.class::cast).findFirst().orElseThrow();
        assertEquals(86400, job.getSpec().getTtlSecondsAfterFinished(), "the plain Job cleans up after itself");
        assertSafePod(job.getSpec().getTemplate().getSpec(), Path.of("k8s"));
        assertFailurePolicy(job);
        assertEquals(List.of("Job", "PersistentVolumeClaim", "Secret", "ServiceAccount"), objects.stream().map(HasMetadata::getKind).sorted().toList());
    }

    @Test
    void aMisspelledFieldFailsTheStrictParse() {
        String yaml = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n"
                + "      containers:\n        - name: c\n          image: i\n          imagePullPolicyy: Always\n";
        AssertionErrorCatcher.expect(() -> StrictModel.parse(yaml), "imagePullPolicyy");
    }

    /** Asserts that a block fails with an AssertionError whose message names {@code fragment}. */
    static final class AssertionErrorCatcher {
        static void expect(ThrowingRunnable r, String fragment) {
            try {
                r.run();
            } catch (AssertionError e) {
                assertTrue(e.getMessage().contains(fragment), e.getMessage());
                return;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            throw new AssertionError("no failure naming " + fragment);
        }

        interface ThrowingRunnable {
            void run() throws Exception;
        }
    }
}
