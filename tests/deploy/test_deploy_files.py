"""deploy/ and its claims, checked against the real code.

Docker and Kubernetes cannot run here, so these tests parse every deploy file and hold each claim it makes to
the code: commands go through the real ``voicepay`` argparse parser, probe and health-check paths must be routes
of the app built by the real factory, ports must agree with the config the container loads, every
``VOICEPAY_*`` variable must land on a real settings field (loaded with a test master key ring and encrypted
stand-ins for the placeholders), grace periods must outlast the real shutdown defaults, and alert rules may use
only the metric names documented in deploy/README.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway import cli
from gateway.app import create_app
from gateway.secrets import MasterKeyRing, Secret, generate_master_key, rotate_text
from gateway.settings import ServerSettings, Settings, SettingsError, WebhookSettings, load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"

#: The metrics contract with gateway/metrics.py: name -> labels (histograms also expose _bucket{le}, _sum, _count).
METRICS: dict[str, frozenset[str]] = {
    "voicepay_requests_total": frozenset({"action", "outcome"}),
    "voicepay_request_duration_seconds": frozenset({"action"}),
    "voicepay_provider_calls_total": frozenset({"provider", "operation", "outcome"}),
    "voicepay_provider_call_duration_seconds": frozenset({"provider"}),
    "voicepay_breaker_open": frozenset({"tenant", "provider"}),
    "voicepay_jobs_queued": frozenset(),
    "voicepay_jobs_oldest_age_seconds": frozenset(),
    "voicepay_webhook_verification_failures_total": frozenset({"tenant"}),
    "voicepay_notifications_total": frozenset({"outcome"}),
}
#: Metrics of the reconciler and the shared rate limiter, registered by their own modules on the app's registry.
OPS_METRICS: dict[str, frozenset[str]] = {
    "voicepay_reconcile_backlog": frozenset(),
    "voicepay_reconcile_total": frozenset({"action", "outcome"}),
    "voicepay_ratelimit_backend_errors_total": frozenset(),
}
HISTOGRAMS = {"voicepay_request_duration_seconds", "voicepay_provider_call_duration_seconds"}
#: Series Prometheus itself produces for every target; the "all gateways down" alert needs it.
PROMETHEUS_BUILTIN = {"up": frozenset({"job", "instance"})}

PLAINTEXT_SECRET = "plaintext-test-secret"


# --- helpers -------------------------------------------------------------------------------------------


@functools.cache
def app_routes() -> frozenset[str]:
    app = create_app(Settings())
    return frozenset(r.canonical for r in app.router.resources())


def parse_voicepay(argv: list[str]) -> argparse.Namespace:
    """Parse a container command with the real CLI parser; fail the test (not exit) when it is refused."""
    assert argv, "empty command"
    assert Path(argv[0]).name == "voicepay", f"{argv!r} does not run the voicepay console script"
    try:
        return cli.build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"voicepay refuses the arguments {argv[1:]!r}")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def runtime_stage() -> list[tuple[str, str]]:
    """Instructions of the last stage (the image that runs)."""
    instrs = dockerfile_instructions()
    last_from = max(i for i, (w, _) in enumerate(instrs) if w == "FROM")
    return instrs[last_from:]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not exec form: {args}"
    return value


def image_entrypoint_and_cmd() -> tuple[list[str], list[str]]:
    stage = runtime_stage()
    entry = [exec_form(a) for w, a in stage if w == "ENTRYPOINT"]
    cmd = [exec_form(a) for w, a in stage if w == "CMD"]
    return (entry[-1] if entry else []), (cmd[-1] if cmd else [])


def flag(argv: list[str], name: str) -> str | None:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def probe_url(text: str) -> tuple[int, str]:
    """Port and path of the http://127.0.0.1:PORT/PATH a health-check command fetches."""
    m = re.search(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[A-Za-z0-9_./{}-]*)", text)
    assert m, f"no local URL in health check {text!r}"
    return int(m.group(1)), m.group(2)


def load_yaml_docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def k8s_objects() -> Iterator[dict[str, Any]]:
    # The default kustomization and the placeholder Secrets kept apart from it (k8s/secrets/).
    for path in sorted(K8S.glob("*.yaml")) + sorted((K8S / "secrets").glob("*.yaml")):
        for doc in load_yaml_docs(path):
            if "apiVersion" in doc and doc.get("kind") != "Kustomization":
                yield doc


def k8s(kind: str) -> list[dict[str, Any]]:
    return [o for o in k8s_objects() if o["kind"] == kind]


def one(kind: str) -> dict[str, Any]:
    objs = k8s(kind)
    assert len(objs) == 1, f"expected one {kind}, found {len(objs)}"
    return objs[0]


def compose() -> dict[str, Any]:
    docs = load_yaml_docs(DEPLOY / "compose.yaml")
    assert len(docs) == 1
    return docs[0]


def make_ring() -> MasterKeyRing:
    return MasterKeyRing.parse(generate_master_key("deploytest"))


def stand_in(value: str, ring: MasterKeyRing) -> str:
    """An encrypted value of the same shape as a REPLACE_ME placeholder (a string, or a JSON list)."""
    if "REPLACE_ME" not in value:
        return value
    if value.lstrip().startswith("["):
        return json.dumps([ring.encrypt(PLAINTEXT_SECRET) for _ in json.loads(value)])
    return ring.encrypt(PLAINTEXT_SECRET)


def resolve(settings: Settings, env_name: str) -> Any:
    """The settings value an override named ``env_name`` set (the same path rules as apply_env_overrides)."""
    path = [p.lower() for p in env_name[len("VOICEPAY_") :].split("__") if p]
    node: Any = settings
    if path[0] == "tenants":
        node = settings.tenant(path[1])
        assert node is not None, f"{env_name}: no tenant {path[1]!r}"
        path = path[2:]
    for part in path:
        assert hasattr(node, part), f"{env_name}: {type(node).__name__} has no field {part!r}"
        node = getattr(node, part)
    return node


def load_with_env(config: Path | str, env: Mapping[str, str]) -> tuple[Settings, dict[str, str]]:
    """Load ``config`` as production does (sandbox off, secrets must decrypt) with ``env`` whose placeholders
    are replaced by values encrypted under a test master key; then prove each VOICEPAY_ name set its field."""
    ring = make_ring()
    environ = {k: stand_in(v, ring) for k, v in env.items()}
    settings = load_settings(config, environ=environ, ring=ring, sandbox=False)
    assert settings.sandbox is False
    for name, raw in environ.items():
        if not name.startswith("VOICEPAY_") or name in {"VOICEPAY_MASTER_KEYS", "VOICEPAY_MASTER_KEY_FILE"}:
            continue
        value = resolve(settings, name)
        if isinstance(value, Secret):
            assert value.reveal() == PLAINTEXT_SECRET, name
        elif isinstance(value, list) and value and isinstance(value[0], Secret):
            assert [s.reveal() for s in value] == [PLAINTEXT_SECRET] * len(value), name
        else:
            assert str(value) == raw or value == json.loads(raw), f"{name}={raw!r} did not reach settings"
    return settings, environ


def env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: malformed line {line!r}"
            out[name.strip()] = value
    return out


def duration_seconds(text: str | int | float) -> float:
    if isinstance(text, int | float):
        return float(text)
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text):
        assert m.start() == pos, f"bad duration {text!r}"
        pos = m.end()
        total += float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    assert pos == len(text) and pos > 0, f"bad duration {text!r}"
    return total


def shutdown_budget() -> float:
    """Seconds a SIGTERMed gateway may take by default: in-flight requests, then running jobs."""
    return ServerSettings().shutdown_timeout + WebhookSettings().stop_timeout_seconds


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_default_command_is_a_real_voicepay_serve() -> None:
    entry, cmd = image_entrypoint_and_cmd()
    argv = entry + cmd
    ns = parse_voicepay(argv)
    assert ns.func is cli.cmd_serve
    assert ns.config, "serve needs --config outside sandbox mode"
    assert not ns.sandbox
    assert ns.host == "0.0.0.0", "inside a container the gateway must listen on every interface"


def test_dockerfile_exposes_the_port_it_serves_on() -> None:
    entry, cmd = image_entrypoint_and_cmd()
    port = parse_voicepay(entry + cmd).port
    exposed = {int(p.split("/")[0]) for w, a in runtime_stage() if w == "EXPOSE" for p in a.split()}
    assert exposed == {port}


def test_dockerfile_runs_as_a_numeric_non_root_user() -> None:
    users = [a for w, a in runtime_stage() if w == "USER"]
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes runAsNonRoot can verify it"


def test_dockerfile_healthcheck_fetches_a_real_route_on_the_served_port() -> None:
    checks = [a for w, a in runtime_stage() if w == "HEALTHCHECK"]
    assert len(checks) == 1
    entry, cmd = image_entrypoint_and_cmd()
    port, path = probe_url(checks[0])
    assert port == parse_voicepay(entry + cmd).port
    assert path in app_routes()
    assert path == "/healthz", "a Docker health check restarts (swarm) or flags a container: liveness, not readiness"


def test_dockerfile_env_overrides_are_real_settings() -> None:
    env: dict[str, str] = {}
    for w, a in runtime_stage():
        if w == "ENV":
            for token in shlex.split(a):
                name, _, value = token.partition("=")
                env[name] = value
    voicepay = {k: v for k, v in env.items() if k.startswith("VOICEPAY_")}
    assert voicepay, "expected at least VOICEPAY_VAR_DIR"
    load_with_env(DEPLOY / "config.container.toml", voicepay | env_file(DEPLOY / "gateway.env.example"))


def test_dockerfile_copies_only_paths_that_exist_and_uses_a_supported_python() -> None:
    for w, a in dockerfile_instructions():
        if w == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                assert (REPO / src).exists(), f"COPY {src}: no such path in the repository"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(x) for x in requires.removeprefix(">=").split("."))
    arg = next(a for w, a in dockerfile_instructions() if w == "ARG" and a.startswith("PYTHON_VERSION="))
    assert tuple(int(x) for x in arg.split("=")[1].split(".")) >= minimum


# --- compose -------------------------------------------------------------------------------------------


def gateway_services(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in c["services"].items() if s.get("command", [None])[0] == "serve"}


def test_compose_has_two_gateways_postgres_and_a_tls_proxy() -> None:
    c = compose()
    gateways = gateway_services(c)
    assert len(gateways) == 2
    images = {n: s.get("image", "") for n, s in c["services"].items()}
    assert any(i.startswith("postgres:") for i in images.values())
    proxies = [n for n, i in images.items() if i.startswith("caddy:")]
    assert len(proxies) == 1
    proxy = c["services"][proxies[0]]
    assert any(str(p).split(":")[-1] == "443" for p in proxy["ports"])
    for name, svc in c["services"].items():
        if name not in proxies:
            assert not svc.get("ports"), f"{name} publishes ports: only the proxy should"


def test_compose_gateway_commands_ports_and_healthchecks_match_the_app() -> None:
    c = compose()
    routes = app_routes()
    for name, svc in gateway_services(c).items():
        ns = parse_voicepay(["voicepay", *svc["command"]])
        assert ns.func is cli.cmd_serve
        mount = next(v for v in svc["volumes"] if v.split(":")[1] == ns.config)
        config = load_with_env(DEPLOY / mount.split(":")[0], compose_gateway_env(svc))[0]
        assert ns.port == config.server.port
        assert [str(ns.port)] == [str(p) for p in svc["expose"]]
        port, path = probe_url(" ".join(svc["healthcheck"]["test"]))
        assert port == ns.port, name
        assert path in routes, f"{name}: health check path {path} is not a route"
        assert path == "/readyz", "the proxy should wait until the store is reachable and migrated"
        assert config.store.url.startswith("postgresql://"), "two instances need a shared PostgreSQL store"
        assert "migrate" in svc["depends_on"]


def compose_gateway_env(svc: dict[str, Any]) -> dict[str, str]:
    env = env_file(DEPLOY / "gateway.env.example") if svc.get("env_file") == "gateway.env" else {}
    return env | {k: str(v) for k, v in svc.get("environment", {}).items()}


def test_compose_gateway_environment_names_real_settings() -> None:
    # load_with_env resolves every VOICEPAY_ name to the settings field it set.
    for svc in gateway_services(compose()).values():
        load_with_env(DEPLOY / "config.container.toml", compose_gateway_env(svc))


def test_a_misspelled_override_is_caught_by_the_same_check() -> None:
    env = env_file(DEPLOY / "gateway.env.example") | {"VOICEPAY_SERVER__PROT": "8080"}
    with pytest.raises(SettingsError, match=r"server\.prot"):
        load_with_env(DEPLOY / "config.container.toml", env)
    env = env_file(DEPLOY / "gateway.env.example")
    env["VOICEPAY_TENANTS__ACME__STRIPE_SECRET_KY"] = env.pop("VOICEPAY_TENANTS__ACME__STRIPE_SECRET_KEY")
    with pytest.raises(SettingsError):
        load_with_env(DEPLOY / "config.container.toml", env)


def test_compose_placeholders_are_not_usable_secrets() -> None:
    env = env_file(DEPLOY / "gateway.env.example")
    with pytest.raises(SettingsError):
        load_settings(DEPLOY / "config.container.toml", environ=env, ring=make_ring(), sandbox=False)


def test_compose_migrate_runs_voicepay_migrate_before_the_gateways() -> None:
    c = compose()
    ns = parse_voicepay(["voicepay", *c["services"]["migrate"]["command"]])
    assert ns.func is cli.cmd_migrate
    for svc in gateway_services(c).values():
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_gateways_are_hardened_and_outlive_their_shutdown() -> None:
    for name, svc in gateway_services(compose()).items():
        assert int(str(svc["user"]).split(":")[0]) != 0, name
        assert svc["read_only"] is True
        assert "ALL" in svc["cap_drop"]
        assert duration_seconds(svc["stop_grace_period"]) > shutdown_budget()
        assert svc["environment"]["VOICEPAY_MASTER_KEY_FILE"].startswith("/run/secrets/")


def test_caddy_proxies_to_both_gateways_and_checks_readiness() -> None:
    c = compose()
    text = (DEPLOY / "Caddyfile").read_text()
    m = re.search(r"^\s*reverse_proxy\s+([^{\n]+)\{", text, re.M)
    assert m
    upstreams = m.group(1).split()
    expected = {f"{n}:{parse_voicepay(['voicepay', *s['command']]).port}" for n, s in gateway_services(c).items()}
    assert set(upstreams) == expected
    health = re.search(r"^\s*health_uri\s+(\S+)", text, re.M)
    assert health and health.group(1) in app_routes()
    assert re.search(r"@internal path .*?/metrics", text), "/metrics must not be public"
    proxy_volumes = c["services"]["proxy"]["volumes"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy_volumes
    assert not re.search(r"^\s*log\b", text, re.M), "proxy access logs would sit outside the redactor"


# --- Kubernetes ----------------------------------------------------------------------------------------


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = one("Deployment")["spec"]["template"]["spec"]
    return spec


def container(name: str) -> dict[str, Any]:
    spec = pod_spec()
    return next(c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name)


def container_argv(c: dict[str, Any]) -> list[str]:
    entry, cmd = image_entrypoint_and_cmd()
    if "command" in c:
        return list(c["command"]) + list(c.get("args", []))
    return entry + list(c.get("args", cmd))


def configmap_config(tmp_path: Path) -> Path:
    cm = one("ConfigMap")
    path = tmp_path / "config.toml"
    path.write_text(cm["data"]["config.toml"])
    return path


def k8s_env(c: dict[str, Any]) -> dict[str, str]:
    """The container's environment: literal values, plus every key of each envFrom Secret."""
    secrets = {s["metadata"]["name"]: s.get("stringData", {}) for s in k8s("Secret")}
    env: dict[str, str] = {}
    for src in c.get("envFrom", []):
        name = src["secretRef"]["name"]
        assert name in secrets, f"envFrom names a Secret {name!r} that is not defined"
        env |= {k: str(v) for k, v in secrets[name].items()}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secrets[ref["name"]], f"{e['name']}: no key {ref['key']} in {ref['name']}"
            env[e["name"]] = "REPLACE_ME"
    return env


def test_k8s_gateway_serves_the_configmap_config_on_the_container_port(tmp_path: Path) -> None:
    gw = container("gateway")
    ns = parse_voicepay(container_argv(gw))
    assert ns.func is cli.cmd_serve
    settings, _ = load_with_env(configmap_config(tmp_path), k8s_env(gw))
    ports = {p["name"]: p["containerPort"] for p in gw["ports"]}
    assert ports == {"http": ns.port}
    assert settings.server.port == ns.port
    assert settings.store.url.startswith("postgresql://")
    mount = next(m for m in gw["volumeMounts"] if m["name"] == "config")
    assert ns.config == f"{mount['mountPath']}/config.toml"


def test_k8s_probes_hit_real_routes_on_the_served_port() -> None:
    gw = container("gateway")
    routes = app_routes()
    port = parse_voicepay(container_argv(gw)).port
    named = {p["name"]: p["containerPort"] for p in gw["ports"]}
    probes = {k: gw[k]["httpGet"] for k in ("readinessProbe", "livenessProbe", "startupProbe")}
    for kind, get in probes.items():
        assert get["path"] in routes, f"{kind} path {get['path']} is not a route"
        assert named.get(get["port"], get["port"]) == port, kind
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == "/healthz"


def test_k8s_grace_period_outlasts_prestop_and_shutdown() -> None:
    spec = pod_spec()
    gw = container("gateway")
    pre_stop = gw["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert spec["terminationGracePeriodSeconds"] > int(pre_stop[1]) + shutdown_budget()


def test_k8s_grace_period_outlasts_the_configured_shutdown(tmp_path: Path) -> None:
    settings, _ = load_with_env(configmap_config(tmp_path), k8s_env(container("gateway")))
    budget = settings.server.shutdown_timeout + settings.webhooks.stop_timeout_seconds
    assert pod_spec()["terminationGracePeriodSeconds"] > budget


def test_k8s_migration_init_container_runs_voicepay_migrate_with_the_same_config(tmp_path: Path) -> None:
    init = pod_spec()["initContainers"]
    assert [c["name"] for c in init] == ["migrate"]
    ns = parse_voicepay(container_argv(init[0]))
    assert ns.func is cli.cmd_migrate
    gw = container("gateway")
    assert ns.config == parse_voicepay(container_argv(gw)).config
    # `voicepay migrate` loads the whole configuration (it syncs tenants), secrets included.
    assert k8s_env(init[0]) == k8s_env(gw)
    assert init[0]["volumeMounts"] == gw["volumeMounts"]
    load_with_env(configmap_config(tmp_path), k8s_env(init[0]))


def test_k8s_pods_are_non_root_read_only_and_bounded() -> None:
    spec = pod_spec()
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    uid = next(a for w, a in runtime_stage() if w == "USER").split(":")[0]
    assert spec["securityContext"]["runAsUser"] == int(uid)
    assert spec["automountServiceAccountToken"] is False
    for c in spec["containers"] + spec["initContainers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), c["name"]
        assert "memory" in c["resources"]["limits"], c["name"]
        mounted = {m["name"] for m in c["volumeMounts"]}
        assert mounted <= {v["name"] for v in spec["volumes"]}


def test_k8s_master_keys_come_from_a_secret_file_the_gateway_reads(tmp_path: Path) -> None:
    spec = pod_spec()
    gw = container("gateway")
    key_file = next(e["value"] for e in gw["env"] if e["name"] == "VOICEPAY_MASTER_KEY_FILE")
    vol = next(v for v in spec["volumes"] if v["name"] == "master-keys")
    mount = next(m for m in gw["volumeMounts"] if m["name"] == "master-keys")
    item = vol["secret"]["items"][0]
    assert key_file == f"{mount['mountPath']}/{item['path']}"
    secret = next(s for s in k8s("Secret") if s["metadata"]["name"] == vol["secret"]["secretName"])
    assert item["key"] in secret["stringData"]
    # The file format the placeholder stands for is what MasterKeyRing reads from VOICEPAY_MASTER_KEY_FILE.
    keyfile = tmp_path / "master-keys"
    keyfile.write_text(generate_master_key("new") + "\n" + generate_master_key("old") + "\n")
    ring = MasterKeyRing.from_environment({"VOICEPAY_MASTER_KEY_FILE": str(keyfile)})
    assert ring.key_ids == ["new", "old"]
    # Only the group (fsGroup) may read it besides root.
    assert vol["secret"]["defaultMode"] & 0o007 == 0
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"]


def test_k8s_configmap_and_secrets_referenced_exist() -> None:
    spec = pod_spec()
    cms = {c["metadata"]["name"] for c in k8s("ConfigMap")}
    secrets = {s["metadata"]["name"] for s in k8s("Secret")}
    for v in spec["volumes"]:
        if "configMap" in v:
            assert v["configMap"]["name"] in cms
        if "secret" in v:
            assert v["secret"]["secretName"] in secrets


def test_k8s_service_pdb_and_ingress_select_the_gateway_pods() -> None:
    dep = one("Deployment")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = one("Service")
    assert svc["spec"]["selector"].items() <= labels.items()
    gw = container("gateway")
    named = {p["name"]: p["containerPort"] for p in gw["ports"]}
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for p in svc_ports.values():
        assert p["targetPort"] in named or p["targetPort"] in named.values()
    pdb = one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert 1 <= pdb["spec"]["minAvailable"] < dep["spec"]["replicas"], "a PDB equal to replicas blocks every drain"
    assert dep["spec"]["replicas"] >= 2
    routes = app_routes()
    for ing in k8s("Ingress"):
        assert ing["spec"]["tls"], "TLS terminates at the ingress"
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                assert backend["name"] == svc["metadata"]["name"]
                assert backend["port"]["name"] in svc_ports
                assert not p["path"].startswith(("/metrics", "/healthz", "/readyz"))
                assert any(r == p["path"] or r.startswith(p["path"].rstrip("/") + "/") for r in routes), p["path"]


def test_k8s_prometheus_scrape_annotations_point_at_the_metrics_route() -> None:
    ann = one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/path"] in app_routes()
    assert int(ann["prometheus.io/port"]) == parse_voicepay(container_argv(container("gateway"))).port


def test_kustomization_lists_every_manifest() -> None:
    kust = load_yaml_docs(K8S / "kustomization.yaml")[0]
    listed = set(kust["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    image_names = {c["image"] for c in pod_spec()["containers"] + pod_spec()["initContainers"]}
    assert image_names == {i["name"] for i in kust["images"]}


def test_master_key_rotation_runbook_works_on_an_env_file(tmp_path: Path) -> None:
    """deploy/README.md rotates the tenant Secret by running `voicepay secrets rotate` on its env file."""
    old_entry, new_entry = generate_master_key("old"), generate_master_key("new")
    old = MasterKeyRing.parse(old_entry)
    env = {k: stand_in(v, old) for k, v in env_file(DEPLOY / "gateway.env.example").items()}
    text = "".join(f"{k}={v}\n" for k, v in env.items())
    both = MasterKeyRing.parse(f"{new_entry}\n{old_entry}")  # the new key first, as the runbook says
    rotated, count = rotate_text(text, both)
    assert count == len([v for v in env.values() if "enc:v1:" in v]) + sum(
        len(json.loads(v)) - 1 for v in env.values() if v.startswith("[")
    )
    assert "enc:v1:old:" not in rotated
    path = tmp_path / "gateway.env"
    path.write_text(rotated)
    new_only = MasterKeyRing.parse(new_entry)
    settings = load_settings(DEPLOY / "config.container.toml", environ=env_file(path), ring=new_only, sandbox=False)
    assert settings.tenant("acme") is not None
    assert settings.tenants[0].stripe_secret_key.reveal() == PLAINTEXT_SECRET


# --- secrets hygiene -----------------------------------------------------------------------------------

_REAL_SECRET = re.compile(
    r"(sk|rk)_(live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{8,}|enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_=-]{20,}"
    r"|[A-Za-z0-9_-]+:[A-Za-z0-9_-]{43}="
)


def test_no_deploy_file_contains_a_real_looking_secret() -> None:
    checked = 0
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.name != "config.example.toml":
            text = path.read_text()
            assert not _REAL_SECRET.search(text), f"{path.relative_to(REPO)} looks like it holds a secret"
            checked += 1
    assert checked >= 10


def test_every_k8s_secret_value_is_a_placeholder() -> None:
    for s in k8s("Secret"):
        assert "data" not in s, "use stringData placeholders; base64 data hides what is committed"
        for key, value in s["stringData"].items():
            assert "REPLACE_ME" in value, f"{s['metadata']['name']}.{key}"


# --- Prometheus alert rules ----------------------------------------------------------------------------


def alert_rules() -> list[dict[str, Any]]:
    doc = load_yaml_docs(DEPLOY / "prometheus" / "alerts.yaml")
    assert len(doc) == 1 and set(doc[0]) == {"groups"}
    rules: list[dict[str, Any]] = []
    names = set()
    for group in doc[0]["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}
        assert group["name"] not in names
        names.add(group["name"])
        rules.extend(group["rules"])
    return rules


def metric_base(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return name


def test_alert_rules_have_the_prometheus_rule_shape() -> None:
    rules = alert_rules()
    assert len({r["alert"] for r in rules}) == len(rules), "alert names must be unique"
    for r in rules:
        assert set(r) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, r.get("alert")
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", r["alert"])
        duration_seconds(r["for"])
        assert r["labels"]["severity"] in {"warning", "critical"}
        assert r["annotations"]["summary"] and r["annotations"]["description"]
        expr = r["expr"]
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), r["alert"]


def test_alert_rules_use_only_documented_metrics_and_their_labels() -> None:
    known = METRICS | OPS_METRICS | PROMETHEUS_BUILTIN
    used: set[str] = set()
    for r in alert_rules():
        expr = r["expr"]
        for m in re.finditer(r"\b(voicepay_[a-z0-9_]+|up)\s*(\{([^}]*)\})?", expr):
            base = metric_base(m.group(1))
            assert base in known, f"{r['alert']}: undocumented metric {m.group(1)}"
            used.add(base)
            for matcher in filter(None, (m.group(3) or "").split(",")):
                label = re.split(r"[=!~]", matcher.strip(), maxsplit=1)[0]
                assert label in known[base], f"{r['alert']}: {base} has no label {label!r}"
        metrics_in_expr = {metric_base(n) for n in re.findall(r"\bvoicepay_[a-z0-9_]+", expr)}
        allowed = set().union(*(known[n] for n in metrics_in_expr | ({"up"} if "up{" in expr else set())))
        for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
            for label in (x.strip() for x in group.split(",")):
                assert label in allowed | {"le"}, f"{r['alert']}: grouping by unknown label {label!r}"
    # Every metric of the contract is alerted on.
    assert set(METRICS) | set(OPS_METRICS) <= used


def test_alert_runbook_links_point_at_readme_sections() -> None:
    readme = (DEPLOY / "README.md").read_text()
    anchors = {m.group(1) for m in re.finditer(r'<a id="([a-z0-9-]+)"></a>', readme)}
    for r in alert_rules():
        link = r["annotations"]["runbook"]
        assert link.startswith("deploy/README.md#")
        assert link.split("#", 1)[1] in anchors, link


def test_readme_documents_every_metric_name_and_label() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name, labels in (METRICS | OPS_METRICS).items():
        row = next((line for line in readme.splitlines() if f"`{name}`" in line and line.startswith("|")), None)
        assert row, f"{name} missing from the deploy/README.md metrics table"
        for label in labels:
            assert f"`{label}`" in row, f"{name}: label {label} not documented"


def test_the_metrics_the_app_exports_are_the_documented_ones() -> None:
    from prometheus_client import CollectorRegistry

    from gateway.metrics import Metrics

    m = Metrics()
    m.watch_breakers(lambda: [("acme", "stripe", False)])
    registry: CollectorRegistry = m.registry
    exported: dict[str, set[str]] = {}
    for family in registry.collect():
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    # Counters and histograms without observations have no labelled samples; read the declared names.
    declared = {
        name: frozenset(getattr(c, "_labelnames", ()))
        for c in list(registry._collector_to_names)  # the registry has no public listing
        for name in registry._collector_to_names[c]
    }
    # The breaker gauge is a custom collector: its names show only in what it collects.
    declared["voicepay_breaker_open"] = frozenset(exported.get("voicepay_breaker_open", set()))
    for name, labels in METRICS.items():
        assert name in declared, f"gateway.metrics does not export {name}"
        assert declared[name] == labels, f"{name}: labels {sorted(declared[name])}, documented {sorted(labels)}"


# --- SECURITY.md ---------------------------------------------------------------------------------------


def test_security_md_timing_safe_claims_hold_in_the_named_files() -> None:
    text = (REPO / "SECURITY.md").read_text()
    section = text.split("### Timing-safe comparisons", 1)[1].split("\n## ", 1)[0]
    files = re.findall(r"`((?:gateway|adapters|redaction)/[a-z_/]+\.py)`", section)
    assert len(files) >= 5
    for f in files:
        assert "compare_digest" in (REPO / f).read_text(), f"SECURITY.md says {f} compares in constant time"


def test_security_md_says_how_to_report_and_the_restricted_key_permissions() -> None:
    text = (REPO / "SECURITY.md").read_text()
    assert re.search(r"security@[a-z0-9.-]+", text)
    for resource in ("Customers", "Refunds", "Coupons", "Promotion codes", "Subscriptions", "Webhook endpoints"):
        assert re.search(rf"^\| {resource}[^|]*\| (Read|Write|None) \|$", text, re.M), resource


def test_the_reconciler_and_rate_limiter_export_their_documented_metrics() -> None:
    from prometheus_client import CollectorRegistry

    from gateway.ratelimit import RateLimiter
    from gateway.reconciler import ReconcileMetrics
    from gateway.settings import RateLimitSettings

    registry = CollectorRegistry()
    ReconcileMetrics(registry)
    RateLimiter(RateLimitSettings(), registry=registry)
    declared = {
        name: frozenset(getattr(c, "_labelnames", ()))
        for c in list(registry._collector_to_names)
        for name in registry._collector_to_names[c]
    }
    for name, labels in OPS_METRICS.items():
        assert name in declared, f"{name} is not exported"
        assert declared[name] == labels
