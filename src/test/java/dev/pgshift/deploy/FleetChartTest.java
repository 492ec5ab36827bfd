package dev.pgshift.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.testing.K8sTools;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart's fleet mode: an Indexed Job whose podFailurePolicy maps pgshift fleet run's exit codes, and nothing of the hook. */
class FleetChartTest {
    private static final Path VALUES = HelmChartTest.CHART.resolve("ci/default-values.yaml");
    private static final String[] FLEET = {"--set", "fleet.enabled=true", "--set-string", "fleet.tenantsSql=select name\\, url from tenants order by name",
        "--set", "fleet.shards=6", "--set", "fleet.tenantPasswordsSecret=tenant-passwords"};

    private static List<HasMetadata> fleet(String... more) throws Exception {
        return HelmChartTest.render(VALUES, Stream.concat(Stream.of(FLEET), Stream.of(more)).toArray(String[]::new));
    }

    private static Job theJob(List<HasMetadata> objects) {
        List<Job> jobs = objects.stream().filter(Job.class::isInstance).map(Job.class::cast).toList();
        assertEquals(1, jobs.size(), "the fleet's Job only: no hook Job, no post Job");
        return jobs.get(0);
    }

    private static String env(Job job, String name) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream().filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue).findFirst().orElse(null);
    }

    @Test
    void theFleetIsAnIndexedJobWhoseExitCodesFailAnIndexOrTheJob() throws Exception {
        List<HasMetadata> objects = fleet();
        for (HasMetadata o : objects) {
            var a = o.getMetadata().getAnnotations();
            assertTrue(a == null || !a.containsKey("helm.sh/hook"), o.getKind() + "/" + o.getMetadata().getName() + ": a fleet has no hooks");
            assertNotEquals("Pod", o.getKind(), "no helm test pod: verify of the control database would prove nothing");
        }
        Job job = theJob(objects);
        var spec = job.getSpec();
        assertEquals("Indexed", spec.getCompletionMode());
        assertEquals(6, spec.getCompletions());
        assertEquals(6, spec.getParallelism());
        assertEquals(2, spec.getBackoffLimitPerIndex());
        assertEquals(6, spec.getMaxFailedIndexes());
        assertEquals("Failed", spec.getPodReplacementPolicy(), "a shard's next pod starts once the last one is gone");
        assertEquals("6", env(job, "PGSHIFT_FLEET_SHARDS"), "the shards pgshift deals are the Job's completions");
        assertEquals("1", env(job, "PGSHIFT_FLEET_TENANTS_AT_ONCE"));
        assertEquals(List.of("fleet", "run"), spec.getTemplate().getSpec().getContainers().get(0).getArgs());
        assertEquals("keep", job.getMetadata().getAnnotations().get("helm.sh/resource-policy"));

        List<PodFailurePolicyRule> rules = spec.getPodFailurePolicy().getRules();
        assertEquals("Ignore", rules.get(0).getAction());
        assertEquals("DisruptionTarget", rules.get(0).getOnPodConditions().get(0).getType());
        assertEquals("FailIndex", rules.get(1).getAction());
        assertEquals("In", rules.get(1).getOnExitCodes().getOperator());
        assertEquals(List.of(ExitCode.TENANTS_FAILED.code()), rules.get(1).getOnExitCodes().getValues());
        assertEquals("FailJob", rules.get(2).getAction());
        assertEquals("NotIn", rules.get(2).getOnExitCodes().getOperator());
        List<Integer> notFailingTheJob = new ArrayList<>(List.of(ExitCode.TENANTS_FAILED.code()));
        ExitCode.all().stream().filter(ExitCode::retryable).forEach(c -> notFailingTheJob.add(c.code()));
        notFailingTheJob.add(notFailingTheJob.size() - 1, 137); // SIGKILL (grace period over, memory limit): the index's next pod resumes
        assertEquals(notFailingTheJob, rules.get(2).getOnExitCodes().getValues(), "21 (halted) and every other code fail the Job");
        for (ExitCode c : ExitCode.all()) {
            String expected = c == ExitCode.OK ? "—" : c == ExitCode.TENANTS_FAILED ? "fail the index" : c.retryable() ? "retry" : c == ExitCode.HALTED
                    ? "fail the Job" : "fail";
            assertEquals(expected, c.kubernetes(), c.name());
        }

        PodSpec pod = spec.getTemplate().getSpec();
        HelmChartTest.assertSafePod(pod, VALUES);
        var secret = pod.getVolumes().stream().filter(v -> v.getName().equals("tenant-passwords")).findFirst().orElseThrow().getSecret();
        assertEquals("tenant-passwords", secret.getSecretName());
        assertEquals(0400, secret.getDefaultMode(), "tenant passwords readable by pgshift's user only");
        assertEquals("/var/run/pgshift/tenants", env(job, "PGSHIFT_FLEET_TENANT_PASSWORDS"));
        K8sTools.Result lint = HelmChartTest.helm(Stream.concat(Stream.of("lint", "--strict", HelmChartTest.CHART.toString(), "-f", VALUES.toString()),
                Stream.of(FLEET)).toArray(String[]::new));
        assertEquals(0, lint.code(), lint.output());
    }

    /** The release id (and the Job's name) is the same for the same release and new for a changed one, unless fleet.release gives it. */
    @Test
    void theReleaseIdFollowsWhatTheReleaseRuns() throws Exception {
        Job first = theJob(fleet());
        String id = env(first, "PGSHIFT_FLEET_RELEASE");
        assertTrue(id.matches("h[0-9a-f]{8}"), id);
        assertEquals("rel-pgshift-fleet-" + id, first.getMetadata().getName());
        assertEquals(id, env(theJob(fleet()), "PGSHIFT_FLEET_RELEASE"));
        assertNotEquals(id, env(theJob(fleet("--set", "image.digest=sha256:" + "2".repeat(64))), "PGSHIFT_FLEET_RELEASE"));
        assertNotEquals(id, env(theJob(fleet("--set", "fleet.waves=1\\,rest")), "PGSHIFT_FLEET_RELEASE"));
        Job named = theJob(fleet("--set", "fleet.release=Shop_2024.06"));
        assertEquals("Shop_2024.06", env(named, "PGSHIFT_FLEET_RELEASE"));
        assertTrue(named.getMetadata().getName().matches("rel-pgshift-fleet-shop-2024-06-[0-9a-f]{6}"), named.getMetadata().getName());
        assertNotEquals(named.getMetadata().getName(), theJob(fleet("--set", "fleet.release=shop-2024-06")).getMetadata().getName(),
                "two ids, two Jobs");
        assertEquals("rel-pgshift-fleet-shop-2024-06", theJob(fleet("--set", "fleet.release=shop-2024-06")).getMetadata().getName());
        for (String[] refused : new String[][] {{"fleet.parallelism=2", "is below fleet.shards"}, {"fleet.maxFailedIndexes=9", "is above fleet.shards"},
            {"migrations.existingConfigMap=app-migrations", "fleet.release is required with migrations.existingConfigMap"}}) {
            K8sTools.Result r = HelmChartTest.helm(Stream.concat(Stream.of("template", "rel", HelmChartTest.CHART.toString(), "-f", VALUES.toString()),
                    Stream.concat(Stream.of(FLEET), Stream.of("--set", refused[0]))).toArray(String[]::new));
            assertNotEquals(0, r.code(), refused[0]);
            assertTrue(r.output().contains(refused[1]), r.output());
        }

        K8sTools.Result noList = HelmChartTest.helm("template", "rel", HelmChartTest.CHART.toString(), "-f", VALUES.toString(), "--set", "fleet.enabled=true");
        assertNotEquals(0, noList.code());
        assertTrue(noList.output().contains("fleet.tenantsSql is required"), noList.output());
        K8sTools.Result badId = HelmChartTest.helm("template", "rel", HelmChartTest.CHART.toString(), "-f", VALUES.toString(), "--set", "fleet.release=-x");
        assertNotEquals(0, badId.code(), badId.output());
    }
}
