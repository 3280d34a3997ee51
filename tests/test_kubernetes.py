"""The Kubernetes manifests of infra/k8s/: built per overlay, schema-valid, sized and restricted.

There is no kustomize binary on PyPI (the network reaches PyPI, npm and Debian only), so
`kustomize_build()` below builds an overlay with the subset of Kustomize the manifests use:
`resources` (files and directories), `namespace`, `labels` (metadata only), `images` and
`patches` with inline JSON 6902 operations. Any other field of a kustomization.yaml fails the
build, so the manifests cannot start using a feature this builder would silently ignore.

Each scenario is rendered once per test session (`shared_render`, shared with the generated
suites); the three of them cover the small, medium and large sizing.
"""

from __future__ import annotations

import copy
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import REPO, SCENARIO_NAMES, RenderFn, load_scenario

KUBERNETES_VERSION = "1.31"
OVERLAYS = ("staging", "production")
Manifest = dict[str, Any]

# The fields of a kustomization.yaml that kustomize_build() implements.
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
# Kinds that live outside any namespace (kustomize does not set their namespace).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
# Where kustomize's image transformer looks for images in the kinds used here.
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


# --------------------------------------------------------------------------- builder


class KustomizeError(Exception):
    """The kustomization uses something kustomize_build() does not implement, or is broken."""


def _load_documents(path: Path) -> list[Manifest]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    for doc in documents:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise KustomizeError(f"{path}: not a Kubernetes object: {doc!r}")
    return documents


def _json_pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON patch path {path!r} must start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def apply_json_patch(document: Manifest, operations: list[dict[str, Any]]) -> Manifest:
    """RFC 6902 add, replace and remove (the operations overlays need)."""
    result = copy.deepcopy(document)
    for operation in operations:
        op, parts = operation.get("op"), _json_pointer(str(operation.get("path", "")))
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, operation["value"])
            elif op == "replace":
                if index >= len(parent):
                    raise KustomizeError(f"replace of a missing item: {operation}")
                parent[index] = operation["value"]
            elif op == "remove":
                del parent[index]
            else:
                raise KustomizeError(f"unsupported JSON patch operation: {operation}")
            continue
        if op in ("replace", "remove") and last not in parent:
            raise KustomizeError(f"{op} of a missing field: {operation}")
        if op in ("add", "replace"):
            parent[last] = operation["value"]
        elif op == "remove":
            del parent[last]
        else:
            raise KustomizeError(f"unsupported JSON patch operation: {operation}")
    return result


def _containers(document: Manifest) -> list[dict[str, Any]]:
    if document["kind"] not in POD_TEMPLATE_KINDS:
        return []
    spec = document["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _set_image(image: str, rule: dict[str, Any]) -> str:
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if name != rule["name"]:
        return image
    new = rule.get("newName", name)
    if "digest" in rule:
        return f"{new}@{rule['digest']}"
    if "newTag" in rule:
        return f"{new}:{rule['newTag']}"
    return image.replace(name, new, 1)


def kustomize_build(directory: Path) -> list[Manifest]:
    """What `kustomize build directory` prints, as a list of objects (subset: see module doc)."""
    config_path = directory / "kustomization.yaml"
    if not config_path.is_file():
        raise KustomizeError(f"{directory} has no kustomization.yaml")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    unknown = set(config) - SUPPORTED_FIELDS
    if unknown:
        raise KustomizeError(f"{config_path}: fields this builder does not implement: {unknown}")
    if config.get("kind", "Kustomization") != "Kustomization":
        raise KustomizeError(f"{config_path}: kind {config['kind']!r}")

    documents: list[Manifest] = []
    for resource in config.get("resources", []):
        path = (directory / resource).resolve()
        if path.is_dir():
            documents += kustomize_build(path)
        elif path.is_file():
            documents += _load_documents(path)
        else:
            raise KustomizeError(f"{config_path}: resource {resource!r} does not exist")

    for entry in config.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            raise KustomizeError(f"{config_path}: only metadata labels are implemented")
        for document in documents:
            document["metadata"].setdefault("labels", {}).update(entry["pairs"])

    namespace = config.get("namespace")
    if namespace:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"]["namespace"] = namespace

    for rule in config.get("images", []):
        matched = False
        for document in documents:
            for container in _containers(document):
                changed = _set_image(container["image"], rule)
                matched |= changed != container["image"]
                container["image"] = changed
        if not matched:
            raise KustomizeError(f"{config_path}: image rule {rule} matches no container")

    for patch in config.get("patches", []):
        target = patch.get("target") or {}
        if set(target) - {"kind", "name"} or "patch" not in patch:
            raise KustomizeError(f"{config_path}: only inline patches by kind and name: {patch}")
        operations = yaml.safe_load(patch["patch"])
        if not isinstance(operations, list):
            raise KustomizeError(f"{config_path}: only JSON 6902 patches: {patch}")
        hits = [
            i
            for i, document in enumerate(documents)
            if document["kind"] == target.get("kind", document["kind"])
            and document["metadata"]["name"] == target.get("name", document["metadata"]["name"])
        ]
        if not hits:
            raise KustomizeError(f"{config_path}: patch target {target} matches nothing")
        for i in hits:
            documents[i] = apply_json_patch(documents[i], operations)

    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in documents]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        raise KustomizeError(f"{config_path}: objects defined twice: {duplicates}")
    return documents


def by_kind(documents: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def overlay_dirs(project: Path) -> dict[str, Path]:
    return {name: project / "infra" / "k8s" / "overlays" / name for name in OVERLAYS}


# --------------------------------------------------------------------------- profile


@cache
def _derive() -> Any:
    spec = importlib.util.spec_from_file_location(
        "prodkit_derive", REPO / "extensions" / "derive.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile_for(answers: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = _derive().build_profile(dict(answers))
    return profile


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=SCENARIO_NAMES)
def scenario(
    request: pytest.FixtureRequest, shared_render: RenderFn
) -> tuple[Path, dict[str, Any]]:
    answers = load_scenario(request.param)
    return shared_render(f"suite-{request.param}", answers), answers


@pytest.fixture(scope="module")
def built(scenario: tuple[Path, dict[str, Any]]) -> dict[str, list[Manifest]]:
    project, _ = scenario
    return {name: kustomize_build(path) for name, path in overlay_dirs(project).items()}


def _name(answers: dict[str, Any]) -> str:
    return str(answers["project_slug"]).replace("_", "-")


# --------------------------------------------------------------------------- tests


def test_builder_applies_overlays_and_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources: [app.yaml]\n", encoding="utf-8")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app"}]}}},
    }
    (base / "app.yaml").write_text(yaml.safe_dump(deployment), encoding="utf-8")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    config = {
        "namespace": "prod",
        "resources": ["../base"],
        "images": [{"name": "app", "newName": "reg.example/app", "newTag": "1.2.3"}],
        "patches": [
            {
                "target": {"kind": "Deployment", "name": "app"},
                "patch": "- {op: add, path: /spec/replicas, value: 3}",
            }
        ],
    }
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (out,) = kustomize_build(overlay)
    assert out["metadata"]["namespace"] == "prod"
    assert out["spec"]["replicas"] == 3
    assert out["spec"]["template"]["spec"]["containers"][0]["image"] == "reg.example/app:1.2.3"

    for broken in (
        {**config, "replicas": [{"name": "app", "count": 2}]},  # a field it does not implement
        {**config, "images": [{"name": "other", "newTag": "1"}]},  # matches nothing
        {**config, "patches": [{"target": {"kind": "Service"}, "patch": "[]"}]},
        {
            **config,
            "patches": [
                {
                    "target": {"kind": "Deployment"},
                    "patch": "- {op: replace, path: /nope, value: 1}",
                }
            ],
        },
    ):
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
        with pytest.raises(KustomizeError):
            kustomize_build(overlay)


def test_every_manifest_validates_against_the_kubernetes_schemas(
    built: dict[str, list[Manifest]],
) -> None:
    errors = []
    for overlay, documents in built.items():
        assert documents, overlay
        for document in documents:
            try:
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(
                    f"{overlay} {document['kind']}/{document['metadata']['name']}: {error}"
                )
    assert not errors, "\n".join(errors)


def test_schema_validation_catches_a_broken_manifest() -> None:
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {},
            "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}},
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_overlays_have_the_expected_objects_in_their_namespace(
    scenario: tuple[Path, dict[str, Any]], built: dict[str, list[Manifest]]
) -> None:
    _, answers = scenario
    name = _name(answers)
    expected = {
        ("Namespace", None),
        ("ServiceAccount", name),
        ("ConfigMap", f"{name}-config"),
        ("Deployment", f"{name}-web"),
        ("Deployment", f"{name}-worker"),
        ("Job", f"{name}-migrate"),
        ("Service", f"{name}-web"),
        ("Ingress", name),
        ("HorizontalPodAutoscaler", f"{name}-web"),
        ("HorizontalPodAutoscaler", f"{name}-worker"),
        ("PodDisruptionBudget", f"{name}-web"),
        ("PodDisruptionBudget", f"{name}-worker"),
        ("NetworkPolicy", "default-deny"),
    }
    for overlay, documents in built.items():
        namespaces = by_kind(documents, "Namespace")
        assert len(namespaces) == 1, overlay
        (namespace,) = namespaces
        labels = namespaces[namespace]["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        present = {(d["kind"], d["metadata"]["name"]) for d in documents}
        for kind, object_name in expected:
            assert any(
                k == kind and (object_name is None or n == object_name) for k, n in present
            ), (
                overlay,
                kind,
                object_name,
            )
        for document in documents:
            if document["kind"] != "Namespace":
                assert document["metadata"]["namespace"] == namespace, document["metadata"]
    assert {n for d in built.values() for n in by_kind(d, "Namespace")} == {name, f"{name}-staging"}


def test_resources_and_autoscaling_come_from_the_profile(
    scenario: tuple[Path, dict[str, Any]], built: dict[str, list[Manifest]]
) -> None:
    _, answers = scenario
    sizing = profile_for(answers)["sizing"]
    name = _name(answers)
    production = built["production"]
    deployments = by_kind(production, "Deployment")
    hpas = by_kind(production, "HorizontalPodAutoscaler")
    for component in ("web", "worker"):
        (container,) = deployments[f"{name}-{component}"]["spec"]["template"]["spec"]["containers"]
        figures = {
            "cpu": f"{sizing[component]['cpu']}m",
            "memory": f"{sizing[component]['memory']}Mi",
        }
        assert container["resources"] == {"requests": figures, "limits": figures}, component
        assert "replicas" not in deployments[f"{name}-{component}"]["spec"], "the HPA owns replicas"

        hpa = hpas[f"{name}-{component}"]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"{name}-{component}",
        }
        assert hpa["minReplicas"] == sizing[component]["min_replicas"]
        assert hpa["maxReplicas"] == sizing[component]["max_replicas"]
        (metric,) = hpa["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"]["averageUtilization"] == sizing["autoscale_cpu_target"]

    staging = by_kind(built["staging"], "HorizontalPodAutoscaler")
    for component in ("web", "worker"):
        spec = staging[f"{name}-{component}"]["spec"]
        assert 1 == spec["minReplicas"] <= spec["maxReplicas"] <= sizing[component]["max_replicas"]

    config = by_kind(production, "ConfigMap")[f"{name}-config"]["data"]
    assert config["WEB_CONCURRENCY"] == str(sizing["web"]["processes"])
    assert config["WORKER_CONCURRENCY"] == str(sizing["worker"]["concurrency"])
    assert config["DB_POOL_SIZE"] == str(sizing["db"]["pool_size"])
    assert config["DB_MAX_OVERFLOW"] == str(sizing["db"]["max_overflow"])
    assert config["RATE_LIMIT_ANONYMOUS"] == sizing["rate_limits"]["anonymous"]
    assert config["RATE_LIMIT_LOGIN"] == sizing["rate_limits"]["login"]


def test_the_three_scenarios_cover_every_scale() -> None:
    scales = {load_scenario(name)["user_scale"] for name in SCENARIO_NAMES}
    assert scales == {"small", "medium", "large"}


def test_pods_run_restricted(
    scenario: tuple[Path, dict[str, Any]], built: dict[str, list[Manifest]]
) -> None:
    _, answers = scenario
    for overlay, documents in built.items():
        for document in documents:
            if document["kind"] not in POD_TEMPLATE_KINDS:
                continue
            where = f"{overlay} {document['kind']}/{document['metadata']['name']}"
            pod = document["spec"]["template"]["spec"]
            assert pod["automountServiceAccountToken"] is False, where
            assert pod["securityContext"]["runAsNonRoot"] is True, where
            assert pod["securityContext"]["runAsUser"] == 10001, where  # the Dockerfile's USER
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert "hostNetwork" not in pod and "hostPID" not in pod, where
            volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
            for container in pod["containers"]:
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                assert context.get("privileged", False) is False, where
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], where
                image = container["image"]
                assert image.startswith("registry.example.com/"), where
                tag = image.rsplit(":", 1)[-1]
                assert ":" in image and tag and tag != "latest", f"{where}: image {image} unpinned"
                assert container["command"][0] == answers["project_slug"], where


def test_web_is_probed_served_and_reachable(
    scenario: tuple[Path, dict[str, Any]], built: dict[str, list[Manifest]]
) -> None:
    _, answers = scenario
    name = _name(answers)
    for overlay, documents in built.items():
        web = by_kind(documents, "Deployment")[f"{name}-web"]
        (container,) = web["spec"]["template"]["spec"]["containers"]
        assert container["command"] == [answers["project_slug"], "serve"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": 8000}, "the Dockerfile's EXPOSE and PORT"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] in ("http", 8000), probe

        selector = web["spec"]["selector"]["matchLabels"]
        assert selector.items() <= web["spec"]["template"]["metadata"]["labels"].items()
        service = by_kind(documents, "Service")[f"{name}-web"]
        assert service["spec"]["selector"] == selector
        (service_port,) = service["spec"]["ports"]
        assert service_port["targetPort"] in ("http", 8000)

        ingress = by_kind(documents, "Ingress")[name]["spec"]
        (rule,) = ingress["rules"]
        (tls,) = ingress["tls"]
        assert tls["hosts"] == [rule["host"]] and tls["secretName"], overlay
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == f"{name}-web"
        assert backend["port"] in ({"name": service_port["name"]}, {"number": service_port["port"]})

        for pdb in by_kind(documents, "PodDisruptionBudget").values():
            assert pdb["spec"]["maxUnavailable"] == 1
            component = pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            deployment = by_kind(documents, "Deployment")[f"{name}-{component}"]
            assert pdb["spec"]["selector"] == deployment["spec"]["selector"]

    hosts = {
        overlay: by_kind(documents, "Ingress")[name]["spec"]["rules"][0]["host"]
        for overlay, documents in built.items()
    }
    assert hosts["staging"] != hosts["production"], "each environment has its own host"


def test_network_policy_denies_by_default_and_allows_what_the_service_needs(
    scenario: tuple[Path, dict[str, Any]], built: dict[str, list[Manifest]]
) -> None:
    _, answers = scenario
    name = _name(answers)
    policies = by_kind(built["production"], "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny

    def ports(rules: list[dict[str, Any]]) -> set[tuple[str, int]]:
        return {(p.get("protocol", "TCP"), p["port"]) for rule in rules for p in rule["ports"]}

    web_labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "web"}
    ingress = [p["spec"] for p in policies.values() if "Ingress" in p["spec"]["policyTypes"]]
    allowed_in = [s for s in ingress if s.get("ingress")]
    assert len(allowed_in) == 1 and allowed_in[0]["podSelector"]["matchLabels"] == web_labels
    assert ports(allowed_in[0]["ingress"]) == {("TCP", 8000)}

    egress = [p["spec"] for p in policies.values() if p["spec"].get("egress")]
    assert len(egress) == 1 and egress[0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": name
    }
    assert {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 6379), ("TCP", 443)} <= ports(
        egress[0]["egress"]
    )
