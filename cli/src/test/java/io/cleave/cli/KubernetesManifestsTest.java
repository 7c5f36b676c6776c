package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.cleave.coordinator.CoordinatorConfig;
import io.cleave.coordinator.CoordinatorServer;
import io.cleave.core.server.ServerLifecycle;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Kubernetes manifests (deploy/kubernetes), offline: {@code kubectl kustomize} renders each overlay, every rendered
 * object parses into fabric8's typed model with unknown fields refused, and the invariants that tie the manifests to
 * the code hold (probes, requests and limits, drain time, images, ports, network policies, the GPU, the coordinator's
 * replicas and the workers' list of them). Nothing is applied:
 * no cluster here, and {@code kubectl apply --dry-run=client} needs an API server too. Skips (assumption) without kubectl.
 */
class KubernetesManifestsTest {
    static final Path ROOT = Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."));
    static final Path KUBE = ROOT.resolve("deploy/kubernetes");

    /** apiVersion/kind to the model class; a kind not listed here fails the test (add it knowingly). */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "v1/Service", Service.class,
            "apps/v1/Deployment", Deployment.class,
            "apps/v1/StatefulSet", StatefulSet.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    static final YAMLMapper YAML = new YAMLMapper();
    /** fabric8's models are Jackson 3 classes; unknown keys land in additionalProperties, which {@link #unknownFields} reports. */
    static final JsonMapper MODEL = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    // ---- the strictness of the parse itself, without kubectl ----

    @Test
    void aMisspelledFieldIsRefusedAtAnyDepth() {
        String good = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  replicas: 1
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      terminationGracePeriodSeconds: 10
                      containers:
                        - name: c
                          image: i:1
                          readinessProbe: {grpc: {port: 7000}}
                          resources: {limits: {cpu: "1"}}
                """;
        assertThat(parse(good)).hasSize(1);
        // top level, pod spec, container, and inside a probe
        for (String[] typo : new String[][] {{"replicas:", "replica:"}, {"terminationGracePeriodSeconds", "terminationGracePeriodSecond"},
                {"readinessProbe", "readinesProbe"}, {"{port: 7000}", "{prot: 7000}"}, {"limits:", "limit:"}}) {
            String bad = good.replace(typo[0], typo[1]);
            assertThat(bad).isNotEqualTo(good);
            assertThatThrownBy(() -> parse(bad)).as(typo[1]).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("unknown field").hasMessageContaining(typo[1].replaceAll("[{}:]", "").split(" ")[0]);
        }
    }

    @Test
    void theExampleFilesParseStrictlyAndTheAdapterServesWhatTheHpaAsksFor() throws IOException {
        List<HasMetadata> external = parse(Files.readString(KUBE.resolve("examples/worker-external-services.yaml")));
        assertThat(external).singleElement().isInstanceOf(Service.class);
        assertThat(((Service) external.get(0)).getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(dockerPort("cloud-worker"));

        JsonNode rules = YAML.readTree(KUBE.resolve("examples/prometheus-adapter-rules.yaml").toFile());
        List<String> served = new ArrayList<>();
        rules.get("rules").forEach(r -> served.add(r.get("name").get("as").asText()));
        List<HasMetadata> base = parse(Files.readString(KUBE.resolve("base/worker-hpa.yaml")));
        HorizontalPodAutoscaler hpa = (HorizontalPodAutoscaler) base.get(0);
        assertThat(hpa.getSpec().getMetrics()).extracting(m -> m.getPods().getMetric().getName()).allMatch(served::contains);
    }

    // ---- the rendered overlays ----

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void overlayRendersIntoTheTypedModelAndKeepsTheInvariants(String overlay) throws Exception {
        List<HasMetadata> objects = parse(kustomize(overlay));
        assertThat(objects).extracting(o -> o.getKind()).contains("Namespace", "StatefulSet", "Service",
                "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy");
        objects.stream().filter(o -> !(o instanceof Namespace))
                .forEach(o -> assertThat(o.getMetadata().getNamespace()).as(id(o)).isEqualTo("cleave"));

        StatefulSet coordinator = one(objects, StatefulSet.class, "cleave-coordinator");
        StatefulSet worker = one(objects, StatefulSet.class, "cleave-worker");
        PodTemplateSpec coordinatorPod = coordinator.getSpec().getTemplate();
        PodTemplateSpec workerPod = worker.getSpec().getTemplate();

        // every container: requests and limits for cpu and memory; an image with a tag
        for (PodTemplateSpec pod : List.of(coordinatorPod, workerPod)) {
            for (Container c : containers(pod)) {
                ResourceRequirements r = c.getResources();
                assertThat(r).as(c.getName()).isNotNull();
                assertThat(r.getRequests()).as(c.getName() + " requests").containsKeys("cpu", "memory");
                assertThat(r.getLimits()).as(c.getName() + " limits").containsKeys("cpu", "memory");
                assertThat(c.getImage()).as(c.getName() + " image").matches("[a-z0-9./-]+(:[\\w.-]+)").doesNotEndWith(":latest");
            }
        }

        Container coord = server(coordinatorPod, "coordinator");
        Container work = server(workerPod, "worker");
        int coordGrpc = port(coord, "grpc");
        int workGrpc = port(work, "grpc");
        // the ports the images serve (their Dockerfiles' ENTRYPOINT and EXPOSE) and the metrics ports the code defaults to
        assertThat(coordGrpc).isEqualTo(dockerPort("coordinator"));
        assertThat(workGrpc).isEqualTo(dockerPort("cloud-worker"));
        assertThat(port(coord, "metrics")).isEqualTo(MetricsOptions.COORDINATOR_PORT);
        assertThat(port(work, "metrics")).isEqualTo(MetricsOptions.WORKER_PORT);
        assertThat(coordinatorPod.getMetadata().getAnnotations()).containsEntry("prometheus.io/port", String.valueOf(MetricsOptions.COORDINATOR_PORT));
        assertThat(workerPod.getMetadata().getAnnotations()).containsEntry("prometheus.io/port", String.valueOf(MetricsOptions.WORKER_PORT));

        // TLS: each server's gRPC port is mutual TLS, with its material from a Secret
        checkTls(coordinatorPod, coord);
        checkTls(workerPod, work);
        // health: startup, readiness and liveness as native gRPC probes on each server's plaintext health-only port
        int coordHealth = checkProbes(coord, CoordinatorServer.SERVICE, "coordinator");
        int workHealth = checkProbes(work, WorkerServer.SERVICE, "cloud-worker");

        // drain: the grace period covers the server's drain plus the wait after cancelling; no preStop takes from it
        long workerNeeds = WorkerConfig.DEFAULT_SHUTDOWN_GRACE_MILLIS + ServerLifecycle.AFTER_CANCEL.toMillis();
        long coordinatorNeeds = CoordinatorConfig.DEFAULT_SHUTDOWN_GRACE_MILLIS + ServerLifecycle.AFTER_CANCEL.toMillis();
        assertThat(workerPod.getSpec().getTerminationGracePeriodSeconds() * 1000).isGreaterThanOrEqualTo(workerNeeds + preStopMillis(work));
        assertThat(coordinatorPod.getSpec().getTerminationGracePeriodSeconds() * 1000).isGreaterThanOrEqualTo(coordinatorNeeds + preStopMillis(coord));

        // addressing: workers advertise their stable per-pod name under the headless Service, on the gRPC port
        Service headless = one(objects, Service.class, worker.getSpec().getServiceName());
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(env(work, "CLEAVE_WORKER_ADVERTISE")).isEqualTo("$(POD_NAME)." + headless.getMetadata().getName() + ".$(POD_NAMESPACE).svc:" + workGrpc);
        // edges' load-balanced Services reach the coordinator's gRPC port; workers use the per-replica names instead
        for (String name : List.of("cleave-coordinator", "cleave-coordinator-external")) {
            Service lb = one(objects, Service.class, name);
            assertThat(lb.getSpec().getClusterIP()).as(name + " is load-balanced, not headless").isNotEqualTo("None");
            assertThat(selects(lb.getSpec().getSelector(), coordinatorPod)).as(name + " selects the coordinator").isTrue();
            assertThat(lb.getSpec().getPorts()).extracting(ServicePort::getPort).contains(coordGrpc);
        }
        checkCoordinatorReplicas(objects, coordinator, work, coordGrpc);
        for (Service s : of(objects, Service.class)) {
            PodTemplateSpec pod = selects(s.getSpec().getSelector(), coordinatorPod) ? coordinatorPod : workerPod;
            assertThat(selects(s.getSpec().getSelector(), pod)).as(id(s) + " selects a server").isTrue();
            for (ServicePort p : s.getSpec().getPorts()) {
                int target = p.getTargetPort().getIntVal() != null ? p.getTargetPort().getIntVal() : port(containers(pod).get(0), p.getTargetPort().getStrVal());
                assertThat(p.getPort()).as(id(s) + " " + p.getName()).isEqualTo(target);
            }
        }

        // the worker pool: a PDB and an HPA on the queue, not on CPU
        PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class, "cleave-worker");
        assertThat(selects(pdb.getSpec().getSelector().getMatchLabels(), workerPod)).isTrue();
        HorizontalPodAutoscaler hpa = one(objects, HorizontalPodAutoscaler.class, "cleave-worker");
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("StatefulSet");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("cleave-worker");
        assertThat(hpa.getSpec().getMetrics()).extracting(MetricSpec::getType).containsOnly("Pods");
        assertThat(hpa.getSpec().getMetrics()).extracting(m -> m.getPods().getMetric().getName()).contains("cleave_worker_queued_requests");

        // network policies: a default deny, and for each server its gRPC port and its metrics port admitted by some policy
        List<NetworkPolicy> policies = of(objects, NetworkPolicy.class);
        assertThat(policies).anySatisfy(p -> {
            assertThat(p.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
            assertThat(p.getSpec().getIngress()).isNullOrEmpty();
        });
        for (PodTemplateSpec pod : List.of(coordinatorPod, workerPod)) {
            Container c = containers(pod).get(0);
            for (String name : List.of("grpc", "metrics")) {
                int port = port(c, name);
                assertThat(policies).as(c.getName() + " " + name + " " + port + " admitted").anySatisfy(p -> {
                    assertThat(selects(p.getSpec().getPodSelector().getMatchLabels(), pod)).isTrue();
                    assertThat(p.getSpec().getIngress()).flatExtracting(NetworkPolicyIngressRule::getPorts)
                            .extracting(NetworkPolicyPort::getPort).anySatisfy(q -> assertThat(q.getIntVal()).isEqualTo(port));
                });
            }
        }
        // heartbeats: the coordinator's gRPC port admits the worker pods (of this namespace), on every replica
        assertThat(policies).as("workers may heartbeat to the coordinator's gRPC port").anySatisfy(p -> {
            assertThat(selects(p.getSpec().getPodSelector().getMatchLabels(), coordinatorPod)).isTrue();
            assertThat(p.getSpec().getIngress()).anySatisfy(rule -> {
                assertThat(rule.getPorts()).extracting(NetworkPolicyPort::getPort).anySatisfy(q -> assertThat(q.getIntVal()).isEqualTo(coordGrpc));
                assertThat(rule.getFrom()).anySatisfy(peer -> {
                    assertThat(peer.getNamespaceSelector()).isNull();
                    assertThat(peer.getPodSelector()).isNotNull();
                    assertThat(selects(peer.getPodSelector().getMatchLabels(), workerPod)).isTrue();
                });
            });
        });
        // the health-only ports: no Service exposes them, and no policy opens them to pods or to everyone (the kubelet
        // probes from the node, which NetworkPolicy lets through; a setup that does not may admit its nodes' range)
        for (Service s : of(objects, Service.class)) {
            PodTemplateSpec pod = selects(s.getSpec().getSelector(), coordinatorPod) ? coordinatorPod : workerPod;
            int health = pod == coordinatorPod ? coordHealth : workHealth;
            for (ServicePort p : s.getSpec().getPorts()) {
                assertThat(p.getPort()).as(id(s) + " " + p.getName() + " exposes no health port").isNotEqualTo(health);
                assertThat(p.getTargetPort().getIntVal() != null ? p.getTargetPort().getIntVal() : port(containers(pod).get(0), p.getTargetPort().getStrVal()))
                        .as(id(s) + " " + p.getName() + " targets no health port").isNotEqualTo(health);
            }
        }
        for (PodTemplateSpec pod : List.of(coordinatorPod, workerPod)) {
            int health = pod == coordinatorPod ? coordHealth : workHealth;
            for (NetworkPolicy p : policies) {
                if (!policySelects(p.getSpec().getPodSelector(), pod)) {
                    continue;
                }
                for (NetworkPolicyIngressRule rule : Optional.ofNullable(p.getSpec().getIngress()).orElse(List.of())) {
                    List<NetworkPolicyPort> ports = Optional.ofNullable(rule.getPorts()).orElse(List.of());
                    // no ports: every port; a number, with endPort a range; a name: the container port of that name
                    boolean admitsHealth = ports.isEmpty() || ports.stream().anyMatch(q -> q.getPort() == null
                            || "health".equals(q.getPort().getStrVal()) || q.getPort().getIntVal() != null && (q.getPort().getIntVal() == health
                                    || q.getEndPort() != null && q.getPort().getIntVal() <= health && health <= q.getEndPort()));
                    if (admitsHealth) {
                        assertThat(rule.getFrom()).as(id(p) + " admits health port " + health + ": from somewhere, not everywhere").isNotEmpty();
                        assertThat(rule.getFrom()).as(id(p) + " admits health port " + health + " only from the nodes' address blocks: no pods, not everyone")
                                .allSatisfy(peer -> {
                                    assertThat(peer.getPodSelector()).isNull();
                                    assertThat(peer.getNamespaceSelector()).isNull();
                                    assertThat(peer.getIpBlock()).isNotNull();
                                    assertThat(peer.getIpBlock().getCidr()).isNotIn("0.0.0.0/0", "::/0");
                                });
                    }
                }
            }
        }
        // the worker port is never opened to the coordinator (it never calls a worker) nor metrics to everyone
        assertThat(policies).noneSatisfy(p -> assertThat(p.getSpec().getIngress()).anySatisfy(rule -> {
            assertThat(rule.getPorts()).extracting(NetworkPolicyPort::getPort).anySatisfy(q -> assertThat(q.getIntVal()).isIn(
                    MetricsOptions.WORKER_PORT, MetricsOptions.COORDINATOR_PORT));
            assertThat(rule.getFrom()).anySatisfy(peer -> assertThat(peer.getIpBlock()).isNotNull());
        }));

        // the GPU: asked for by the gpu overlay's worker and by nothing in the cpu overlay
        Quantity gpu = work.getResources().getLimits().get("nvidia.com/gpu");
        if (overlay.equals("gpu")) {
            assertThat(gpu).isEqualTo(new Quantity("1"));
            assertThat(work.getImage()).startsWith("cleave/worker-gpu:");
            assertThat(workerPod.getSpec().getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
            assertThat(workerPod.getSpec().getNodeSelector()).isNotEmpty();
        } else {
            for (PodTemplateSpec pod : List.of(coordinatorPod, workerPod)) {
                for (Container c : containers(pod)) {
                    assertThat(c.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
                    Optional.ofNullable(c.getResources().getRequests()).ifPresent(q -> assertThat(q).doesNotContainKey("nvidia.com/gpu"));
                }
            }
            assertThat(work.getImage()).startsWith("cleave/worker:");
        }
    }

    /**
     * The coordinator as replicas that share nothing: a StatefulSet of at least two behind a headless Service (a stable
     * name per replica), rolled one at a time, at most all but one away for voluntary disruptions, spread over nodes; and
     * every worker heartbeating to every replica by its per-pod name on the gRPC port (a heartbeat reaches only the
     * replicas the worker lists, and a load-balanced Service reaches one).
     */
    private static void checkCoordinatorReplicas(List<HasMetadata> objects, StatefulSet coordinator, Container work, int coordGrpc) {
        PodTemplateSpec coordinatorPod = coordinator.getSpec().getTemplate();
        int replicas = coordinator.getSpec().getReplicas();
        assertThat(replicas).as("coordinator replicas").isGreaterThanOrEqualTo(2);
        assertThat(coordinator.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        // RollingUpdate (also the default) replaces one pod at a time; never more than one unavailable
        var update = coordinator.getSpec().getUpdateStrategy();
        if (update != null && update.getType() != null) {
            assertThat(update.getType()).as("coordinator update strategy").isEqualTo("RollingUpdate");
        }
        if (update != null && update.getRollingUpdate() != null) {
            var ru = update.getRollingUpdate();
            if (ru.getMaxUnavailable() != null) {
                assertThat(ru.getMaxUnavailable().getIntVal()).as("coordinator rollingUpdate.maxUnavailable").isEqualTo(1);
            }
            assertThat(Optional.ofNullable(ru.getPartition()).orElse(0)).as("coordinator rollingUpdate.partition").isZero();
        }
        // no other workload runs coordinator pods beside the StatefulSet (e.g. a leftover single-replica Deployment)
        assertThat(of(objects, Deployment.class)).noneMatch(d -> selects(coordinatorPod.getMetadata().getLabels(), d.getSpec().getTemplate()));
        assertThat(coordinator.getSpec().getSelector().getMatchLabels()).isNotEmpty();
        assertThat(selects(coordinator.getSpec().getSelector().getMatchLabels(), coordinatorPod)).isTrue();

        // the headless Service named by serviceName gives each replica its DNS name
        String serviceName = coordinator.getSpec().getServiceName();
        assertThat(serviceName).as("coordinator serviceName").isNotBlank();
        Service headless = one(objects, Service.class, serviceName);
        assertThat(headless.getSpec().getClusterIP()).as(serviceName + " is headless").isEqualTo("None");
        assertThat(selects(headless.getSpec().getSelector(), coordinatorPod)).as(serviceName + " selects the coordinator").isTrue();

        // workers: one entry per replica (ordinals 0 .. replicas-1, each once), its per-pod name, the gRPC port; parsed as
        // the worker parses --coordinator (nothing is resolved)
        String list = env(work, "CLEAVE_COORDINATOR");
        assertThat(io.cleave.core.net.HostPort.parseList(list, "CLEAVE_COORDINATOR")).hasSize(io.cleave.core.net.HostPort.targets(list).size());
        String namespace = coordinator.getMetadata().getNamespace();
        Pattern perPod = Pattern.compile(Pattern.quote(coordinator.getMetadata().getName()) + "-(\\d+)\\." + Pattern.quote(serviceName)
                + "\\.(\\$\\(POD_NAMESPACE\\)|" + Pattern.quote(namespace) + ")\\.svc(\\.cluster\\.local)?:(\\d+)");
        List<Integer> ordinals = new ArrayList<>();
        for (String target : io.cleave.core.net.HostPort.targets(list)) {
            Matcher m = perPod.matcher(target);
            assertThat(m.matches()).as("worker coordinator target '" + target + "' is a per-pod name of " + id(coordinator) + " under " + serviceName)
                    .isTrue();
            int ordinal = Integer.parseInt(m.group(1));
            assertThat(ordinal).as(target + ": a pod of " + replicas + " replicas").isLessThan(replicas);
            assertThat(Integer.parseInt(m.group(4))).as(target + " port").isEqualTo(coordGrpc);
            if (m.group(2).startsWith("$")) {
                // $(POD_NAMESPACE) is expanded only from a variable defined earlier in the list, here the pod's namespace
                List<String> names = work.getEnv().stream().map(EnvVar::getName).toList();
                assertThat(names.indexOf("POD_NAMESPACE")).as("POD_NAMESPACE defined before CLEAVE_COORDINATOR")
                        .isNotNegative().isLessThan(names.indexOf("CLEAVE_COORDINATOR"));
                EnvVar ns = work.getEnv().get(names.indexOf("POD_NAMESPACE"));
                assertThat(ns.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
            }
            ordinals.add(ordinal);
        }
        assertThat(ordinals).as("every coordinator replica, once, in the workers' list")
                .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, replicas).boxed().toList());

        // voluntary disruptions take at most all but one replica (and at least one may go, or a node never drains)
        PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class, coordinator.getMetadata().getName());
        assertThat(selects(pdb.getSpec().getSelector().getMatchLabels(), coordinatorPod)).as("coordinator PDB selects its pods").isTrue();
        assertThat(pdb.getSpec().getMaxUnavailable() == null).as("exactly one of maxUnavailable, minAvailable")
                .isNotEqualTo(pdb.getSpec().getMinAvailable() == null);
        if (pdb.getSpec().getMaxUnavailable() != null) {
            assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).as("coordinator PDB maxUnavailable").isBetween(1, replicas - 1);
        } else {
            assertThat(pdb.getSpec().getMinAvailable().getIntVal()).as("coordinator PDB minAvailable").isBetween(1, replicas - 1);
        }

        // the replicas on different nodes where possible: anti-affinity by hostname against the coordinator's own pods
        var affinity = coordinatorPod.getSpec().getAffinity();
        assertThat(affinity).as("coordinator affinity").isNotNull();
        assertThat(affinity.getPodAntiAffinity()).as("coordinator podAntiAffinity").isNotNull();
        List<io.fabric8.kubernetes.api.model.PodAffinityTerm> terms = new ArrayList<>(
                Optional.ofNullable(affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()).orElse(List.of()));
        Optional.ofNullable(affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()).orElse(List.of())
                .forEach(w -> terms.add(w.getPodAffinityTerm()));
        assertThat(terms).as("coordinator replicas kept apart by node").anySatisfy(t -> {
            assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
            assertThat(selects(t.getLabelSelector().getMatchLabels(), coordinatorPod)).isTrue();
        });
    }

    private static void checkTls(PodTemplateSpec pod, Container c) {
        String tlsDir = env(c, "CLEAVE_TLS_DIR");
        assertThat(tlsDir).as("server runs with --tls-dir").isNotBlank();
        VolumeMount mount = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(tlsDir)).findFirst().orElseThrow();
        Volume tls = pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        assertThat(tls.getSecret()).as("TLS material from a Secret").isNotNull();
    }

    /**
     * Startup, readiness and liveness are all Kubernetes' native gRPC probes of {@code service} (the code's health service
     * name) on the container port named health: the server's plaintext health-only port, whose number the server is
     * given by CLEAVE_HEALTH_PORT (--health-port) in the same container, which the image EXPOSEs, and which is neither
     * its gRPC port (mutual TLS only: the native probe has no TLS, so it would never pass there) nor its metrics port.
     * No exec probe (a JVM per check) and no TCP or HTTP probe.
     *
     * @return the health port
     */
    private static int checkProbes(Container c, String service, String module) {
        int health = port(c, "health");
        assertThat(env(c, "CLEAVE_HEALTH_PORT")).as(c.getName() + ": CLEAVE_HEALTH_PORT (--health-port) is the port named health")
                .isEqualTo(String.valueOf(health));
        assertThat(health).as(c.getName() + ": the health port is neither the gRPC nor the metrics port")
                .isNotEqualTo(port(c, "grpc")).isNotEqualTo(port(c, "metrics"));
        assertThat(c.getPorts()).extracting(ContainerPort::getContainerPort).as(c.getName() + " container ports").doesNotHaveDuplicates();
        assertThat(dockerfile(module)).as(module + "/Dockerfile EXPOSEs the health port").containsPattern("(?m)^EXPOSE( \\d+)* " + health + "( |$)");
        Map<String, Probe> probes = new java.util.LinkedHashMap<>();
        probes.put("startupProbe", c.getStartupProbe());
        probes.put("readinessProbe", c.getReadinessProbe());
        probes.put("livenessProbe", c.getLivenessProbe());
        probes.forEach((name, p) -> {
            String what = c.getName() + " " + name;
            assertThat(p).as(what).isNotNull();
            assertThat(p.getExec()).as(what + ": no exec probe").isNull();
            assertThat(p.getTcpSocket()).as(what + ": no TCP probe").isNull();
            assertThat(p.getHttpGet()).as(what + ": no HTTP probe").isNull();
            assertThat(p.getGrpc()).as(what + ": a native gRPC probe").isNotNull();
            assertThat(p.getGrpc().getPort()).as(what + ": on the health port").isEqualTo(health);
            assertThat(p.getGrpc().getService()).as(what + ": the server's health service name").isEqualTo(service);
        });
        // one slow answer does not restart a server (the default is 3)
        assertThat(Optional.ofNullable(c.getLivenessProbe().getFailureThreshold()).orElse(3)).as(c.getName() + " liveness failureThreshold")
                .isGreaterThanOrEqualTo(3);
        return health;
    }

    private static long preStopMillis(Container c) {
        if (c.getLifecycle() == null || c.getLifecycle().getPreStop() == null) {
            return 0;
        }
        var h = c.getLifecycle().getPreStop();
        if (h.getSleep() != null) {
            return h.getSleep().getSeconds() * 1000;
        }
        throw new AssertionError(c.getName() + ": a preStop hook other than sleep: account for its time here");
    }

    // ---- helpers ----

    /** The port an image's Dockerfile serves: its ENTRYPOINT's --port, which must also be EXPOSEd. */
    static int dockerPort(String module) {
        String df = dockerfile(module);
        Matcher m = Pattern.compile("(?m)^ENTRYPOINT .*\"--port\", \"(\\d+)\"").matcher(df);
        assertThat(m.find()).as(module + "/Dockerfile ENTRYPOINT --port").isTrue();
        assertThat(df).contains("EXPOSE " + m.group(1));
        return Integer.parseInt(m.group(1));
    }

    static String dockerfile(String module) {
        try {
            return Files.readString(ROOT.resolve(module).resolve("Dockerfile"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static String kustomize(String overlay) throws Exception {
        Path dir = KUBE.resolve("overlays").resolve(overlay);
        Process p;
        try {
            p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).start();
        } catch (IOException e) {
            assumeTrue(false, "kubectl is not on the PATH (" + e.getMessage() + "): the Kubernetes manifests are not rendered or checked");
            throw e;
        }
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        byte[] out = readAll(p.getInputStream());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("kubectl kustomize finished").isTrue();
        assertThat(p.exitValue()).as("kubectl kustomize " + dir + ": " + new String(err.get(), StandardCharsets.UTF_8)).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every document of a YAML stream as its typed object; fails on an unknown kind or any field the model does not have. */
    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> out = new ArrayList<>();
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isEmpty()) {
                    continue;
                }
                String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                Class<? extends HasMetadata> type = KINDS.get(key);
                if (type == null) {
                    throw new AssertionError("a kind this test does not know: " + key + " (" + doc.path("metadata").path("name").asText() + ")");
                }
                HasMetadata o = MODEL.readValue(doc.toString(), type);
                List<String> unknown = new ArrayList<>();
                unknownFields(o, key + " " + o.getMetadata().getName(), unknown);
                if (!unknown.isEmpty()) {
                    throw new AssertionError("unknown field(s), not in the Kubernetes model: " + String.join("; ", unknown));
                }
                out.add(o);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    /** Walks a fabric8 object graph through its getters; every non-empty additionalProperties is a key the model does not know. */
    static void unknownFields(Object o, String path, List<String> found) {
        if (o == null) {
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, found));
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object x : c) {
                unknownFields(x, path + "[" + i++ + "]", found);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            String n = m.getName();
            if (m.getParameterCount() != 0 || !n.startsWith("get") || n.equals("getClass") || java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Object v;
            try {
                v = m.invoke(o);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue; // a computed accessor (HasMetadata's defaults): not a field
            }
            if (n.equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    found.add(path + ": " + extra.keySet());
                }
            } else if (!(v instanceof String) && !(v instanceof Number) && !(v instanceof Boolean)) {
                unknownFields(v, path + "." + Character.toLowerCase(n.charAt(3)) + n.substring(4), found);
            }
        }
    }

    static <T extends HasMetadata> List<T> of(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        List<T> found = of(objects, type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
        assertThat(found).as(type.getSimpleName() + " " + name).hasSize(1);
        return found.get(0);
    }

    static List<Container> containers(PodTemplateSpec pod) {
        return Stream.concat(pod.getSpec().getContainers().stream(),
                Optional.ofNullable(pod.getSpec().getInitContainers()).orElse(List.of()).stream()).toList();
    }

    static Container server(PodTemplateSpec pod, String name) {
        return pod.getSpec().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static int port(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
    }

    static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).filter(Objects::nonNull).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no env " + name));
    }

    /** Whether a NetworkPolicy's podSelector selects the pod: an empty one selects every pod (matchExpressions: taken to). */
    static boolean policySelects(io.fabric8.kubernetes.api.model.LabelSelector selector, PodTemplateSpec pod) {
        if (selector == null || (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty())) {
            return true;
        }
        Map<String, String> labels = Optional.ofNullable(selector.getMatchLabels()).orElse(Map.of());
        return pod.getMetadata().getLabels().entrySet().containsAll(labels.entrySet());
    }

    static boolean selects(Map<String, String> selector, PodTemplateSpec pod) {
        return selector != null && !selector.isEmpty() && pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
    }

    static String id(HasMetadata o) {
        return o.getKind() + " " + o.getMetadata().getName();
    }
}
