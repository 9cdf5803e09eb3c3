"""Issue 13's deploy traps, held to the files: the build context, the proxy access logs the docs promise are
off, and Secrets kept out of the default kustomization (``kubectl apply -k deploy/k8s`` must never overwrite
real Secrets with placeholders). Kustomize cannot run here, so the kustomizations are rendered by following
their ``resources`` and parsing every document."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"


def render(kustomization_dir: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl apply -k DIR`` would apply (resources followed recursively, namespace set)."""
    kust = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    assert kust["kind"] == "Kustomization"
    objects: list[dict[str, Any]] = []
    for res in kust["resources"]:
        path = kustomization_dir / res
        assert path.exists(), f"{res} listed in {kustomization_dir} does not exist"
        if path.is_dir():
            objects.extend(render(path))
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            assert "apiVersion" in doc and "kind" in doc, f"{path.name}: not a Kubernetes object"
            if "namespace" in kust and doc["kind"] != "Namespace":
                doc.setdefault("metadata", {})["namespace"] = kust["namespace"]
            objects.append(doc)
    return objects


def test_default_kustomization_applies_no_secret() -> None:
    objects = render(K8S)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Ingress", "ConfigMap"} <= kinds
    assert "Secret" not in kinds, "kubectl apply -k deploy/k8s would overwrite the real Secrets"


def test_the_secrets_the_deployment_needs_are_documented_as_placeholders_in_a_separate_kustomization() -> None:
    secrets = render(K8S / "secrets")
    assert secrets and {o["kind"] for o in secrets} == {"Secret"}
    assert all(o["metadata"]["namespace"] == "voicepay" for o in secrets)
    defined = {o["metadata"]["name"] for o in secrets}
    deployment = next(o for o in render(K8S) if o["kind"] == "Deployment")
    text = yaml.safe_dump(deployment)
    referenced = set(re.findall(r"(?:secretName|name): (voicepay-[a-z-]+)", text)) - {"voicepay-gateway"}
    referenced = {n for n in referenced if n in text and ("secret" in n or "keys" in n or "postgres" in n)}
    assert referenced and referenced <= defined
    readme = (REPO / "deploy" / "README.md").read_text()
    assert "k8s/secrets/" in readme and "never overwrites real Secrets" in readme
    security = (REPO / "SECURITY.md").read_text()
    assert "deploy/k8s/secrets/" in security and "never overwrites the real Secrets" in security


def test_every_ingress_turns_the_proxy_access_log_off() -> None:
    ingresses = [o for o in render(K8S) if o["kind"] == "Ingress"]
    assert ingresses
    for ing in ingresses:
        ann = ing["metadata"].get("annotations", {})
        assert ann.get("nginx.ingress.kubernetes.io/enable-access-log") == "false", ing["metadata"]["name"]


def test_docs_claim_access_logs_off_and_the_files_do_it() -> None:
    security = (REPO / "SECURITY.md").read_text()
    assert "access logs off" in security
    caddy = (REPO / "deploy" / "Caddyfile").read_text()
    assert not re.search(r"^\s*log\b", caddy, re.MULTILINE), "the Caddyfile enables a log"
    readme = (REPO / "deploy" / "README.md").read_text()
    assert "enable-access-log" in readme


def _ignored(patterns: list[str], path: str) -> bool:
    """Docker's rule for a path relative to the context: the last matching pattern wins ('!' re-includes)."""
    ignored = False
    for pat in patterns:
        negate = pat.startswith("!")
        pat = pat[1:] if negate else pat
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.removeprefix("**/"))
               or fnmatch.fnmatch(p.rsplit("/", 1)[-1], pat.removeprefix("**/")) for p in prefixes):
            ignored = not negate
    return ignored


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def test_dockerignore_keeps_venv_state_caches_and_git_out_of_the_build_context() -> None:
    pats = dockerignore()
    for path in (".venv/bin/python", "var/voicepay.sqlite3", "var/sandbox.json", ".git/HEAD",
                 "gateway/__pycache__/app.cpython-311.pyc", ".mypy_cache/x", ".ruff_cache/x", ".pytest_cache/x",
                 "voicepay_gateway.egg-info/PKG-INFO"):
        assert _ignored(pats, path), f"{path} would be sent to the Docker daemon"


def test_dockerignore_keeps_everything_the_dockerfile_copies() -> None:
    pats = dockerignore()
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    copied: list[str] = []
    for m in re.finditer(r"^COPY (?!--from)(.+)$", dockerfile, re.MULTILINE):
        copied.extend(m.group(1).split()[:-1])
    assert copied
    for src in copied:
        for path in ([src] if (REPO / src).is_file() else
                     [str(p.relative_to(REPO)) for p in (REPO / src).rglob("*.py")]):
            assert not _ignored(pats, path), f"the Dockerfile copies {path} but .dockerignore drops it"
