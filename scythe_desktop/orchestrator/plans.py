"""Plan backends: render, never execute, what would run each deployed observer.

* ``docker-plan``: a ``docker run`` shell script, ``scythe-observer-<id>.docker.sh``.
* ``terraform-plan``: a Terraform JSON ``docker_container`` resource, ``scythe-observer-<id>.tf.json``.
* ``kubernetes-plan``: an ``apps/v1`` Deployment (one replica), ``scythe-observer-<id>.k8s.json`` (JSON, which
  ``kubectl apply -f`` reads, so the runtime needs no YAML library). Its token comes from a Secret per observer,
  ``scythe-observer-<id>-token`` (key ``observer-token``), because each observer has its own identity (subject
  ``observer-<id>``); the plan holds no token and creates no Secret.

Every plan uses the image ``scythe-desktop:<version>`` and the same ``scythe observer`` arguments. Nothing is
executed and, for ``kubernetes-plan``, no Kubernetes API server is contacted: the files are for an operator to
review and apply. A decommission leaves the observer's plan file where it is, for all three kinds alike
(remove it, or ``kubectl delete -f`` it, yourself). How to apply them: deploy/README.md.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scythe_desktop import __version__
from scythe_desktop.engine.actions import Action, ActionResult, Deploy

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.world_host import WorldHost

PLAN_BACKENDS: Final = ("docker-plan", "terraform-plan", "kubernetes-plan")
#: Where every plan's observer reads its refresh token (a Docker secret, a Kubernetes Secret volume).
TOKEN_DIR: Final = "/run/secrets"
TOKEN_KEY: Final = "observer-token"
#: A Kubernetes label value (at most 63 characters); anything else goes only into annotations.
_LABEL_VALUE: Final = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
#: The non-root user the observer runs as; the image need not define it.
_UID: Final = 10001
_RENDERED: Final = (
    "rendered by scythe serve --backend kubernetes-plan, never applied: no Kubernetes API server was contacted"
)


def is_label_value(value: str) -> bool:
    return _LABEL_VALUE.fullmatch(value) is not None


class PlanBackend:
    """Simulates the observer and writes the docker/terraform/kubernetes equivalent of each deploy to ``plan_dir``."""

    def __init__(self, kind: str, plan_dir: Path, target: str) -> None:
        if kind not in PLAN_BACKENDS:
            raise ValueError(f"plan backend must be one of {', '.join(PLAN_BACKENDS)}, got {kind!r}")
        self.name = kind
        self._dir = plan_dir
        self._target = target
        plan_dir.mkdir(parents=True, exist_ok=True)

    def apply(self, host: WorldHost, action: Action) -> tuple[ActionResult, int]:
        result, tick = host.apply(action)
        if result.ok and isinstance(action, Deploy) and result.observer_id is not None:
            self.render(result.observer_id, action)
        return result, tick

    def render(self, observer_id: int, action: Deploy) -> Path:
        name = f"scythe-observer-{observer_id}"
        args = [
            "scythe",
            "observer",
            "--target",
            self._target,
            "--observer-id",
            str(observer_id),
            "--token-file",
            f"{TOKEN_DIR}/{TOKEN_KEY}",
        ]
        labels = {
            "scythe.observer_id": str(observer_id),
            "scythe.lon": f"{action.lon:.6f}",
            "scythe.lat": f"{action.lat:.6f}",
            "scythe.observer_type": action.observer_type or "",
        }
        image = f"scythe-desktop:{__version__}"
        if self.name == "docker-plan":
            label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
            cmd = [
                "docker",
                "run",
                "--detach",
                "--name",
                name,
                "--restart",
                "on-failure",
                "--network",
                "host",
                *label_args,
                "--secret",
                TOKEN_KEY,
                image,
                *args,
            ]
            path = self._dir / f"{name}.docker.sh"
            path.write_text(
                "#!/bin/sh\n# Rendered by scythe serve --backend docker-plan; not executed.\n" + shlex.join(cmd) + "\n"
            )
        elif self.name == "terraform-plan":
            plan = {
                "resource": {
                    "docker_container": {
                        name.replace("-", "_"): {
                            "name": name,
                            "image": image,
                            "command": args,
                            "restart": "on-failure",
                            "network_mode": "host",
                            "labels": [{"label": k, "value": v} for k, v in labels.items()],
                        }
                    }
                }
            }
            path = self._dir / f"{name}.tf.json"
            path.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
        else:
            path = self._dir / f"{name}.k8s.json"
            path.write_text(json.dumps(kubernetes_deployment(name, image, args, labels), indent=2) + "\n")
        return path

    def heartbeat(self, observer_id: int, load: float, *, pid: int | None = None) -> tuple[bool, float]:
        raise KeyError(observer_id)

    def status(self, observer_id: int) -> tuple[str, float, float]:
        return "planned", 0.0, 0.0

    def close(self) -> None:
        pass


def kubernetes_deployment(name: str, image: str, args: list[str], tags: dict[str, str]) -> dict[str, Any]:
    """One observer as an ``apps/v1`` Deployment. ``tags`` are the plan's labels: those that are valid Kubernetes
    label values (not lon/lat, whose ``-`` or ``.`` may begin or end them) become labels, all become annotations."""
    selector = {"app.kubernetes.io/name": "scythe-observer", "app.kubernetes.io/instance": name}
    labels = {
        **selector,
        "app.kubernetes.io/part-of": "scythe",
        "app.kubernetes.io/version": __version__,
        **{k: v for k, v in tags.items() if k not in ("scythe.lon", "scythe.lat") and is_label_value(v)},
    }
    annotations = {"scythe.plan": _RENDERED, **tags}
    container = {
        "name": "observer",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        # Not `command`: like `docker run IMAGE ARGS...`, these replace the image's CMD, not its ENTRYPOINT.
        "args": args,
        # A heartbeating gRPC client: about 50 MiB resident, a fraction of a core.
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "token", "mountPath": TOKEN_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # the only writable path: the root filesystem is read-only
        ],
    }
    pod = {
        "metadata": {"labels": labels, "annotations": annotations},
        "spec": {
            # No restartPolicy: a Deployment's pods may only have Always, its default.
            # The observer talks to the orchestrator, never to the Kubernetes API.
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": _UID,
                "runAsGroup": _UID,
                "fsGroup": _UID,  # makes the group-readable token file readable by the observer
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [
                {
                    "name": "token",
                    "secret": {
                        "secretName": f"{name}-token",
                        "items": [{"key": TOKEN_KEY, "path": TOKEN_KEY}],
                        "defaultMode": 0o440,
                    },
                },
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {
            "replicas": 1,
            # Never two pods with one observer identity: the old pod goes before the new one starts.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": pod,
        },
    }
