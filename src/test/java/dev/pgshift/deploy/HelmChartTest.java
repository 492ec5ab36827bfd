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
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Helm chart and the plain manifests, rendered by the real helm and kubectl and parsed into the Kubernetes API types. */
class HelmChartTest {
    static final Path CHART = Path.of("helm/pgshift");

    private static List<Path> scenarios() throws Exception {
        try (Stream<Path> s = Files.list(CHART.resolve("ci"))) {
            return s.filter(p -> p.toString().endsWith("-values.yaml")).sorted().toList();
        }
    }

    static K8sTools.Result helm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(K8sTools.helm().toString()));
        cmd.addAll(List.of(args));
        return K8sTools.exec(Path.of("."), cmd.toArray(String[]::new));
    }

    static List<HasMetadata> render(Path values, String... more) throws Exception {
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

            assertHookScopedObjects(objects, values);
        }
    }

    /**
     * Only what the pre-install/pre-upgrade Job needs before it runs is a hook, on those two events only, and deleted once
     * the hook phase is over (a hook outlives helm uninstall); the pods after it use the release's own objects.
     */
    private static void assertHookScopedObjects(List<HasMetadata> objects, Path values) {
        PodSpec hookPod = job(objects, "-migrate").getSpec().getTemplate().getSpec();
        Set<String> hookUses = podReferences(hookPod);
        for (HasMetadata o : objects) {
            if (o instanceof Job || o instanceof Pod) {
                continue;
            }
            var a = o.getMetadata().getAnnotations();
            String name = o.getKind() + "/" + o.getMetadata().getName();
            if (o.getMetadata().getName().endsWith("-hook")) {
                assertEquals("pre-install,pre-upgrade", a.get("helm.sh/hook"), values + ": " + name);
                assertEquals("before-hook-creation,hook-succeeded,hook-failed", a.get("helm.sh/hook-delete-policy"), name);
                int weight = Integer.parseInt(a.get("helm.sh/hook-weight"));
                assertTrue(weight < Integer.parseInt(job(objects, "-migrate").getMetadata().getAnnotations().get("helm.sh/hook-weight")),
                        name + " exists before the Job");
                assertTrue(hookUses.contains(name), values + ": the hook Job uses " + name + ": " + hookUses);
            } else {
                assertTrue(a == null || !a.containsKey("helm.sh/hook"), values + ": " + name + " belongs to the release, not a hook");
                assertFalse(hookUses.contains(name), values + ": the hook Job cannot use " + name + " (it does not exist yet at pre-install)");
            }
        }
        for (String used : hookUses) {
            boolean made = objects.stream().anyMatch(o -> (o.getKind() + "/" + o.getMetadata().getName()).equals(used));
            assertTrue(made || !used.startsWith("Secret/rel-") && !used.startsWith("ConfigMap/rel-") && !used.startsWith("ServiceAccount/rel-"),
                    values + ": the hook Job uses " + used + ", which the chart does not make");
        }
        for (HasMetadata o : objects) {
            if (o instanceof Pod || (o instanceof Job j && !j.getMetadata().getName().endsWith("-migrate"))) {
                PodSpec later = o instanceof Pod p ? p.getSpec() : ((Job) o).getSpec().getTemplate().getSpec();
                podReferences(later).forEach(r -> assertFalse(r.endsWith("-hook"), o.getMetadata().getName() + " uses the hook's " + r));
            }
        }
    }

    /** "Kind/name" of the ServiceAccount, Secrets and ConfigMaps a pod refers to. */
    private static Set<String> podReferences(PodSpec pod) {
        Set<String> refs = new TreeSet<>();
        refs.add("ServiceAccount/" + pod.getServiceAccountName());
        for (Volume v : pod.getVolumes()) {
            if (v.getSecret() != null) {
                refs.add("Secret/" + v.getSecret().getSecretName());
            }
            if (v.getConfigMap() != null) {
                refs.add("ConfigMap/" + v.getConfigMap().getName());
            }
        }
        for (EnvVar e : pod.getContainers().get(0).getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                refs.add("Secret/" + e.getValueFrom().getSecretKeyRef().getName());
            }
        }
        return refs;
    }

    static void assertSafePod(PodSpec pod, Path values) {
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

    /**
     * The image's bundled migrations (pgshift's demo set, in its own image) run only where the chart gives none of its
     * own, or where asked for both: an existing ConfigMap rendered PGSHIFT_BUNDLED=true and planned the demo set too.
     */
    @Test
    void theBundledSetRunsOnlyWhenTheChartGivesNoMigrations() throws Exception {
        Path values = CHART.resolve("ci/default-values.yaml");
        String[][] cases = {{"true"}, {"false", "--set", "migrations.existingConfigMap=app-migrations"},
            {"false", "--set", "migrations.fromChartFiles=true"},
            {"true", "--set", "migrations.existingConfigMap=app-migrations", "--set", "migrations.bundled=true"},
            {"false", "--set", "migrations.bundled=false"}};
        for (String[] c : cases) {
            String[] more = java.util.Arrays.copyOfRange(c, 1, c.length);
            for (Job j : render(values, more).stream().filter(o -> o instanceof Job).map(Job.class::cast).toList()) {
                String bundled = j.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                        .filter(e -> e.getName().equals("PGSHIFT_BUNDLED")).findFirst().orElseThrow().getValue();
                assertEquals(c[0], bundled, j.getMetadata().getName() + " with " + String.join(" ", more));
            }
            K8sTools.Result notes = helm(concat(new String[] {"install", "rel", CHART.toString(), "-f", values.toString(), "--dry-run=client"}, more));
            assertTrue(notes.output().contains("Migrations: " + (c[0].equals("true") ? "the image's bundled set" : "")), notes.output());
        }
    }

    /**
     * Every pod of the chart gets the same settings: run.settings reach the hook Job, the post Job and the helm test pod
     * alike, and run.extraArgs both Jobs that run migrations (the post Job had none: `--schema app` there made the post
     * run exit 3 and the test exit 6).
     */
    @Test
    void everyPodGetsTheSameSettingsAndBothMigrationJobsTheExtraArguments() throws Exception {
        List<HasMetadata> objects = render(CHART.resolve("ci/post-job-values.yaml"), "--set", "run.settings.schema=app",
                "--set", "run.settings.out-of-order=true", "--set", "run.extraArgs={--lock-wait,30s}", "--set", "backup.method=restore-point",
                "--set", "run.settings.archive-wait=5m");
        List<Container> pods = new ArrayList<>();
        for (HasMetadata o : objects) {
            if (o instanceof Job j) {
                pods.add(j.getSpec().getTemplate().getSpec().getContainers().get(0));
            } else if (o instanceof Pod p) {
                pods.add(p.getSpec().getContainers().get(0));
            }
        }
        assertEquals(3, pods.size(), "hook Job, post Job, helm test pod");
        List<EnvVar> first = pods.get(0).getEnv();
        assertTrue(first.contains(new EnvVar("PGSHIFT_SCHEMA", "app", null)) && first.contains(new EnvVar("PGSHIFT_OUT_OF_ORDER", "true", null)),
                first.toString());
        assertTrue(first.contains(new EnvVar("PGSHIFT_BACKUP_METHOD", "restore-point", null)) && first.contains(new EnvVar("PGSHIFT_ARCHIVE_WAIT", "5m", null)),
                first.toString());
        for (Container c : pods) {
            assertEquals(first, c.getEnv(), "every pod has the settings the others have");
            if (c.getArgs().get(0).equals("run")) {
                assertEquals(List.of("--lock-wait", "30s"), c.getArgs().subList(c.getArgs().size() - 2, c.getArgs().size()), c.getArgs().toString());
            }
        }
        K8sTools.Result misspelled = helm("template", "rel", CHART.toString(), "-f", CHART.resolve("ci/default-values.yaml").toString(),
                "--set", "run.settings.shema=app");
        assertNotEquals(0, misspelled.code());
        assertTrue(misspelled.output().contains("'shema' not allowed"), misspelled.output());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
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
        // One for the hook phase (deleted after it), one the release owns (deleted by helm uninstall): none is left behind.
        assertEquals(List.of("rel-pgshift-db", "rel-pgshift-db-hook"),
                objects.stream().filter(o -> o.getKind().equals("Secret")).map(o -> o.getMetadata().getName()).sorted().toList());
    }

    @Test
    void postBuildsRunAsAPlainJobPerRevisionOrAsAPostHook() throws Exception {
        List<HasMetadata> plain = render(CHART.resolve("ci/post-job-values.yaml"));
        Job post = postJob(plain);
        var annotations = post.getMetadata().getAnnotations();
        assertFalse(annotations.containsKey("helm.sh/hook"), "a plain Job, outside the hooks");
        assertNull(post.getSpec().getTtlSecondsAfterFinished(), "no TTL: Argo CD would re-create the vanished Job and build again");
        assertEquals("keep", annotations.get("helm.sh/resource-policy"), "a later upgrade does not delete a build still running");
        assertEquals("Prune=false", annotations.get("argocd.argoproj.io/sync-options"));
        // Named after its pod template: the same release renders the same name (Argo CD renders every revision as 1),
        // a changed one a new Job, since a Job's template is immutable.
        assertEquals(post.getMetadata().getName(), postJob(render(CHART.resolve("ci/post-job-values.yaml"))).getMetadata().getName());
        assertNotEquals(post.getMetadata().getName(),
                postJob(render(CHART.resolve("ci/post-job-values.yaml"), "--set", "image.digest=sha256:" + "1".repeat(64))).getMetadata().getName());
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

    private static Job postJob(List<HasMetadata> objects) {
        Job post = objects.stream().filter(o -> o instanceof Job && o.getMetadata().getName().matches("rel-pgshift-post-[0-9a-f]{8}"))
                .map(Job.class::cast).findFirst().orElseThrow(() -> new AssertionError("no Job rel-pgshift-post-<hash>"));
        return post;
    }

    @Test
    void oneResourcePerTemplateFileAndSmallHelpers() throws Exception {
        K8sTools.Result r = helm("template", "rel", CHART.toString(), "-f", CHART.resolve("ci/post-job-values.yaml").toString());
        assertEquals(0, r.code(), r.output());
        List<String> sources = r.output().lines().filter(l -> l.startsWith("# Source: ")).toList();
        assertEquals(sources.size(), Set.copyOf(sources).size(), "a template file renders one resource: " + sources);
        // The pod spec lives in _pod.tpl; _helpers.tpl keeps names, labels and the like, a few lines each.
        String helpers = Files.readString(CHART.resolve("templates/_helpers.tpl"));
        assertFalse(helpers.contains("containers:"), "no pod spec in _helpers.tpl");
        for (String define : helpers.split("\\{\\{-? define ")) {
            assertTrue(define.lines().count() <= 20, "a helper of " + define.lines().count() + " lines:\n" + define);
        }
    }

    @Test
    void theChartIgnoresWhatIsNotTheChart() throws Exception {
        List<String> ignored = Files.readAllLines(CHART.resolve(".helmignore"));
        assertTrue(ignored.contains("ci/"), "the test scenarios are not packaged");
        assertTrue(ignored.contains(".git/"));
        Path out = Files.createTempDirectory("pgshift-chart");
        K8sTools.Result r = helm("package", CHART.toString(), "-d", out.toString());
        assertEquals(0, r.code(), r.output());
        K8sTools.Result list = K8sTools.exec(out, "tar", "tzf", out.resolve("pgshift-0.1.0.tgz").toString());
        assertFalse(list.output().contains("pgshift/ci/"), list.output());
        assertTrue(list.output().contains("pgshift/values.schema.json"), list.output());
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
        K8sTools.Result method = helm("template", "rel", CHART.toString(), "-f", values.toString(), "--set", "backup.method=snapshot");
        assertNotEquals(0, method.code(), method.output());
        assertTrue(method.output().contains("method"), method.output());
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
        // No Secret: applying k8s/ must never overwrite the real pgshift-db (a documented prerequisite instead).
        assertEquals(List.of("Job", "PersistentVolumeClaim", "ServiceAccount"), objects.stream().map(HasMetadata::getKind).sorted().toList());
        assertTrue(Files.readString(Path.of("k8s/kustomization.yaml")).contains("kubectl create secret generic pgshift-db"));
        // The user's migrations from a ConfigMap they make, never the image's bundled example set (it applied the demo schema).
        Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertTrue(c.getEnv().contains(new EnvVar("PGSHIFT_BUNDLED", "false", null)), c.getEnv().toString());
        assertTrue(c.getEnv().contains(new EnvVar("PGSHIFT_MIGRATIONS", "/var/run/pgshift/migrations", null)), c.getEnv().toString());
        assertEquals("pgshift-migrations", job.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getConfigMap() != null)
                .findFirst().orElseThrow().getConfigMap().getName());
        assertTrue(Files.readString(Path.of("k8s/kustomization.yaml")).contains("kubectl create configmap pgshift-migrations"));
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
