"""deploy/: the Kubernetes manifests and the compose file hold together, and the image's
Dockerfile builds what it says (checked without a Docker engine: parsed, and its wheel built
and run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"


def _k8s() -> dict[str, list[dict[str, Any]]]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, (listed, on_disk)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(listed):
        for doc in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()):
            assert doc["apiVersion"] and doc["metadata"]["name"], name
            by_kind.setdefault(doc["kind"], []).append(doc)
    return by_kind


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _env_refs(container: dict[str, Any]) -> tuple[set[tuple[str, str]], set[str]]:
    secrets = {(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
               for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    maps = {ref["configMapRef"]["name"] for ref in container.get("envFrom", [])
            if "configMapRef" in ref}
    return secrets, maps


def test_kubernetes_manifests_fit_together() -> None:
    kinds = _k8s()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "ConfigMap", "Secret", "Job"} <= kinds.keys()
    deployment = kinds["Deployment"][0]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], labels)
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in {*ports, *ports.values()}, probe
    assert container["args"][:2] == ["omniroute", "serve"]
    requests = container["resources"]["requests"]
    assert requests["cpu"] and requests["memory"] and container["resources"]["limits"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    # Long enough for the shutdown grace (10 s) plus the outbox's 5 s and the preStop sleep.
    assert pod["spec"]["terminationGracePeriodSeconds"] >= 25

    service = kinds["Service"][0]
    assert _selects(service["spec"]["selector"], labels)
    assert all(p["targetPort"] in {*ports, *ports.values()} for p in service["spec"]["ports"])
    hpa = kinds["HorizontalPodAutoscaler"][0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    pdb = kinds["PodDisruptionBudget"][0]
    assert _selects(pdb["spec"]["selector"]["matchLabels"], labels)
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]  # a drain can proceed

    job = kinds["Job"][0]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["omniroute", "migrate"]
    assert migrate["image"] == container["image"]
    assert migrate["resources"]["requests"]

    secret_keys = {(s["metadata"]["name"], key) for s in kinds["Secret"]
                   for key in {**s.get("stringData", {}), **s.get("data", {})}}
    config_maps = {c["metadata"]["name"] for c in kinds["ConfigMap"]}
    for each in (container, migrate):
        secrets, maps = _env_refs(each)
        assert secrets <= secret_keys, secrets - secret_keys
        assert maps <= config_maps
    assert all(key.startswith("OMNIROUTE_") for c in kinds["ConfigMap"] for key in c["data"])


def test_compose_is_health_gated() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["command"] == ["omniroute", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def _dockerfile_final_stage() -> list[tuple[str, str]]:
    lines = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [tuple(line.strip().split(None, 1)) for line in lines
                    if line.strip() and not line.strip().startswith("#")]
    stages: list[list[tuple[str, str]]] = []
    for instruction in instructions:
        if instruction[0].upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction[0].upper(), instruction[1]))
    return stages[-1]


def test_the_image_runs_as_a_non_root_user() -> None:
    final = _dockerfile_final_stage()
    users = [arg for op, arg in final if op == "USER"]
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    cmd = next(arg for op, arg in reversed(final) if op == "CMD")
    assert '"omniroute", "serve"' in cmd
    assert any(op == "HEALTHCHECK" for op, _ in final)
    assert ("COPY", "migrations ./migrations") in final


def test_the_wheel_the_image_installs_builds_and_its_entry_point_runs(tmp_path: Path) -> None:
    """What the Dockerfile's build stage does (pip wheel .), then its CMD's program from that
    wheel alone, in a working directory laid out like the image's."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("router", "connectors", "migrations"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
                            "--wheel-dir", str(tmp_path / "wheels"), str(source)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("omniroute-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "omniroute = router.cli:main" in archive.read(entry_points).decode()
    assert any(n.startswith("router/") for n in names)
    assert any(n.startswith("connectors/webchat/") and n.endswith(".js") for n in names)

    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                                "--no-cache-dir", "--target", str(site), str(wheel)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    workdir = tmp_path / "opt"
    shutil.copytree(ROOT / "migrations", workdir / "migrations")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update({"PYTHONPATH": str(site),
                "OMNIROUTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/image.db"})
    script = site / "bin" / "omniroute"
    run = subprocess.run([sys.executable, str(script), "migrate"], cwd=workdir, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "latest schema" in run.stdout
    where = subprocess.run([sys.executable, "-c", "import router; print(router.__file__)"],
                           cwd=workdir, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site))  # the wheel's code ran, not the checkout's
