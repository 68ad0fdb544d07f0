"""The Kubernetes manifests, validated offline against the Kubernetes OpenAPI schemas that kubernetes-validate
bundles (no API server, no network): the kubernetes-plan backend's Deployments and deploy/kuberay/rayjob.yaml.

kubernetes-validate knows no KubeRay CRD, so of the RayJob only the Kubernetes parts are checked against a
schema (its ConfigMap, its PVC and every pod template, as a v1 PodTemplate); its own fields get a hand-written
structural check. deploy/README.md says the same."""

from __future__ import annotations

import copy
import json
import re
import secrets
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from scythe_desktop import __version__
from scythe_desktop.client.embedded import start_embedded
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.orchestrator.plans import PlanBackend

#: The Kubernetes version whose schemas every manifest is checked against.
K8S_VERSION = "1.30"
RAYJOB = Path(__file__).resolve().parents[2] / "deploy" / "kuberay" / "rayjob.yaml"
IMAGE = f"scythe-desktop:{__version__}"
#: Kubernetes' label value syntax (the JSON schemas do not check it): at most 63 characters.
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt of the validator to reach out fails the test (the embedded orchestrator's gRPC is C-core)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a manifest test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def validate(obj: dict[str, Any]) -> None:
    """Strict: a field the schema does not know is an error too."""
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def as_pod_template(name: str, template: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name}, "template": template}


def assert_labels_valid(labels: dict[str, str]) -> None:
    for key, value in labels.items():
        assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), f"label {key}={value!r} is not a label value"


def assert_deployment_sound(deployment: dict[str, Any]) -> None:
    """What the schema cannot say: labels are label values, the selector selects the pod, the pod is locked down."""
    validate(deployment)
    spec = deployment["spec"]
    pod = spec["template"]
    for labels in (deployment["metadata"]["labels"], pod["metadata"]["labels"]):
        assert_labels_valid(labels)
    assert spec["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert spec["replicas"] == 1
    assert "restartPolicy" not in pod["spec"]  # the Deployment's default, Always
    (container,) = pod["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"requests", "limits"} <= container["resources"].keys()
    assert "never applied" in deployment["metadata"]["annotations"]["scythe.plan"]


@pytest.fixture(scope="module")
def rendered_on_a_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[int]]]:
    """A real orchestrator under --backend kubernetes-plan: two deploys, then a decommission of the first."""
    plan_dir = tmp_path_factory.mktemp("k8s-plan")
    handle = start_embedded(
        "tutorial", 0, tick_hz=10.0, backend="kubernetes-plan", plan_dir=plan_dir, auth_secret=secrets.token_hex(32)
    )
    try:
        with handle.client() as c:
            oids = [c.deploy(-74.0, 40.7).observer_id, c.deploy(2.35, 48.85).observer_id]
            assert c.decommission(oids[0]).ok
            status = {o.observer_id: (o.backend, o.status) for o in c.list_observers().observers}
    finally:
        handle.stop()
    assert status[oids[1]] == ("kubernetes-plan", "planned")
    yield plan_dir, oids


def test_the_server_renders_one_valid_deployment_per_deploy(rendered_on_a_server: tuple[Path, list[int]]) -> None:
    plan_dir, oids = rendered_on_a_server
    assert sorted(p.name for p in plan_dir.iterdir()) == sorted(f"scythe-observer-{i}.k8s.json" for i in oids)
    for oid in oids:
        deployment = json.loads((plan_dir / f"scythe-observer-{oid}.k8s.json").read_text())
        assert_deployment_sound(deployment)
        assert deployment["metadata"]["name"] == f"scythe-observer-{oid}"
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        args = container["args"]
        assert args[:2] == ["scythe", "observer"]
        assert args[args.index("--observer-id") + 1] == str(oid)
        assert args[args.index("--token-file") + 1] == "/run/secrets/observer-token"
        secret = next(v["secret"] for v in deployment["spec"]["template"]["spec"]["volumes"] if "secret" in v)
        assert secret["secretName"] == f"scythe-observer-{oid}-token"


def test_a_decommission_leaves_the_plan_file_like_docker_and_terraform_plans(
    rendered_on_a_server: tuple[Path, list[int]],
) -> None:
    plan_dir, oids = rendered_on_a_server
    assert (plan_dir / f"scythe-observer-{oids[0]}.k8s.json").is_file()


def test_lon_lat_and_odd_observer_types_are_annotations_not_labels(tmp_path: Path) -> None:
    backend = PlanBackend("kubernetes-plan", tmp_path, "orchestrator.example:50051")
    deployment = json.loads(backend.render(3, Deploy(-74.0, 40.7, observer_type="long range / v2")).read_text())
    assert_deployment_sound(deployment)
    labels, annotations = deployment["metadata"]["labels"], deployment["metadata"]["annotations"]
    assert {"scythe.lon", "scythe.lat", "scythe.observer_type"}.isdisjoint(labels)
    assert annotations["scythe.lon"] == "-74.000000"
    assert annotations["scythe.observer_type"] == "long range / v2"
    assert labels["scythe.observer_id"] == "3"


def test_a_broken_manifest_is_rejected(tmp_path: Path) -> None:
    deployment = json.loads(PlanBackend("kubernetes-plan", tmp_path, "o:1").render(1, Deploy(0.0, 0.0)).read_text())
    validate(deployment)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "one"
    unknown_field = copy.deepcopy(deployment)
    unknown_field["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    for broken in (wrong_type, unknown_field):
        with pytest.raises(kubernetes_validate.ValidationError):
            validate(broken)


def rayjob_documents() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(RAYJOB.read_text()) if d is not None]
    by_kind = {d["kind"]: d for d in docs}
    assert len(by_kind) == len(docs) == 3
    return by_kind


def rayjob_templates(rayjob: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cluster = rayjob["spec"]["rayClusterSpec"]
    return {
        "head": cluster["headGroupSpec"]["template"],
        **{f"worker-{g['groupName']}": g["template"] for g in cluster["workerGroupSpecs"]},
    }


def test_the_rayjob_configmap_pvc_and_pod_templates_match_the_kubernetes_schema() -> None:
    docs = rayjob_documents()
    validate(docs["ConfigMap"])
    validate(docs["PersistentVolumeClaim"])
    templates = rayjob_templates(docs["RayJob"])
    assert len(templates) >= 2
    for name, template in templates.items():
        validate(as_pod_template(name, template))
        assert_labels_valid(template["metadata"]["labels"])
        for container in template["spec"]["containers"]:
            assert container["image"] == IMAGE
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_a_broken_pod_template_is_rejected() -> None:
    template = copy.deepcopy(rayjob_templates(rayjob_documents()["RayJob"])["head"])
    template["spec"]["containers"][0]["ports"][0]["containerPort"] = "6379"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(as_pod_template("head", template))


def test_the_rayjob_structure_by_hand() -> None:
    """KubeRay's own fields (no schema for them here): names and types as in ray.io/v1."""
    docs = rayjob_documents()
    rayjob = docs["RayJob"]
    assert (rayjob["apiVersion"], rayjob["kind"]) == ("ray.io/v1", "RayJob")
    spec = rayjob["spec"]
    assert spec["entrypoint"] == "scythe sweep /config/sweep.toml --ray auto"
    assert spec["shutdownAfterJobFinishes"] is True
    assert isinstance(spec["ttlSecondsAfterFinished"], int) and spec["ttlSecondsAfterFinished"] > 0
    cluster = spec["rayClusterSpec"]
    assert isinstance(cluster["rayVersion"], str)
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        assert all(isinstance(v, str) for v in group["rayStartParams"].values())  # a map of strings
    for group in cluster["workerGroupSpecs"]:
        assert isinstance(group["groupName"], str) and group["groupName"]
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    gpu_limits = [c["resources"]["limits"].get("nvidia.com/gpu") for g in cluster["workerGroupSpecs"]
                  for c in g["template"]["spec"]["containers"]]
    assert 1 in gpu_limits


def test_the_rayjob_mounts_what_its_sweep_needs() -> None:
    """The entrypoint's config is the ConfigMap's key, on the head; the sweep's storage is the PVC, everywhere."""
    docs = rayjob_documents()
    config_map, pvc = docs["ConfigMap"], docs["PersistentVolumeClaim"]
    sweep = tomllib.loads(config_map["data"]["sweep.toml"])
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]
    for name, template in rayjob_templates(docs["RayJob"]).items():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in template["spec"]["containers"][0]["volumeMounts"]}
        storage = next(p for p in mounts if sweep["storage"].startswith(p + "/"))
        assert volumes[mounts[storage]]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"], name
        if name == "head":
            assert volumes[mounts["/config"]]["configMap"]["name"] == config_map["metadata"]["name"]


def test_the_rayjob_sweep_config_parses() -> None:
    from scythe_desktop.cluster.sweep_config import parse_sweep

    text = rayjob_documents()["ConfigMap"]["data"]["sweep.toml"]
    assert str(parse_sweep(text, Path("sweep.toml")).storage) == "/storage/sweeps"
