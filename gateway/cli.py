"""``voicepay``: serve, migrate, keys, secrets, audit, redact.

Secrets are read from stdin, never from argv (argv is visible to every user via ``ps``).

One way to find the configuration, for every command (:func:`find_config`): ``--config FILE``, else
``$VOICEPAY_CONFIG``, else ``./voicepay.toml``, else the sandbox's state under ``var/`` (``$VOICEPAY_VAR_DIR``)
when ``make run`` has created it; ``--sandbox`` chooses the sandbox explicitly. The first line a command writes
(on stderr, so stdout stays machine-readable) names the configuration and the database it uses. Nothing
found is an error, never a silent default database. Read-only commands (``audit verify``, ``audit tail``,
``keys list``, ``webhooks list|show``, ``notifications list``) and the replays never create a database: a
missing one is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from gateway.secrets import MasterKeyRing, SecretError, generate_master_key, rotate_file
from gateway.settings import Settings, SettingsError, load_settings

Command = Callable[[argparse.Namespace], int]


# --- finding the configuration -------------------------------------------------------------------------

#: The environment variable naming the config file when ``--config`` is not given.
CONFIG_ENV = "VOICEPAY_CONFIG"
#: The config file looked for in the working directory.
LOCAL_CONFIG = "voicepay.toml"


class ConfigNotFound(SettingsError):
    pass


class NoDatabase(SettingsError):
    pass


def sandbox_var_dir() -> Path:
    return Path(os.environ.get("VOICEPAY_VAR_DIR", "var"))


def find_config(args: argparse.Namespace) -> tuple[str | None, str]:
    """(config file or None for the sandbox, how it was found). Raises :class:`ConfigNotFound`."""
    if getattr(args, "config", None):
        return str(args.config), "--config"
    if getattr(args, "sandbox", False):
        return None, "--sandbox"
    env = os.environ.get(CONFIG_ENV)
    if env:
        return env, f"${CONFIG_ENV}"
    if Path(LOCAL_CONFIG).is_file():
        return LOCAL_CONFIG, f"./{LOCAL_CONFIG}"
    if (sandbox_var_dir() / "sandbox.json").is_file():
        return None, f"the sandbox in {sandbox_var_dir()}/"
    raise ConfigNotFound(
        f"no configuration: give --config FILE, set {CONFIG_ENV}, create ./{LOCAL_CONFIG}, "
        "or use --sandbox (after `make run` has created var/)"
    )


def _sandbox_settings() -> Settings:
    from gateway.settings import build_settings

    var = sandbox_var_dir()
    # The sandbox's tenant and database as `voicepay serve --sandbox` creates them (gateway/sandbox.py); the
    # emulators' addresses are not needed by operator commands.
    data: dict[str, Any] = {
        "sandbox": True,
        "var_dir": str(var),
        "store": {"url": f"sqlite:///{var}/voicepay-sandbox.sqlite3"},
        "tenants": [{"id": "sandbox", "name": "Sandbox Ltd", "stripe_secret_key": "sk_test_sandbox",
                     "currency": "gbp", "phone_default_region": "GB"}],
    }
    return build_settings(data, environ=os.environ, sandbox=True)


def _describe_store(url: str) -> str:
    if url.startswith("sqlite:///"):
        return f"sqlite {url[len('sqlite:///'):]}"
    # Host and database only: a password in a URL is never printed.
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"postgresql {parts.hostname or ''}:{parts.port or 5432}{parts.path}"


def _settings(args: argparse.Namespace, *, announce: bool = True) -> Settings:
    path, how = find_config(args)
    sandbox = True if getattr(args, "sandbox", False) else None
    settings = _sandbox_settings() if path is None else load_settings(path, sandbox=sandbox)
    if announce:
        where = "sandbox" if path is None else path
        print(f"voicepay: config {where} (from {how}); database {_describe_store(settings.store.url)}",
              file=sys.stderr, flush=True)
    return settings


def _sqlite_path(url: str) -> Path | None:
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None


def _with_store(args: argparse.Namespace, fn: Callable[[Any], Awaitable[int]], *, readonly: bool = False) -> int:
    """Run ``fn(store)``. ``readonly``: the database must already exist and carry the schema (nothing is
    created, migrated or synced); otherwise it is migrated and the configured tenants synced first."""
    from gateway.app import sync_tenants
    from gateway.store import open_store

    settings = _settings(args)
    sqlite = _sqlite_path(settings.store.url)
    if readonly and sqlite is not None and not sqlite.is_file():
        raise NoDatabase(f"no database at {sqlite}: nothing to read (is this the right configuration?)")

    async def main() -> int:
        from gateway.store import StoreError

        try:
            store = await open_store(settings.store.url, command_timeout=settings.store.command_timeout)
        except StoreError as exc:
            # The error names the failure's class only (never the URL's password).
            raise NoDatabase(f"cannot open {_describe_store(settings.store.url)}: {exc}") from None
        try:
            if readonly:
                if await store.schema_version() == 0:
                    raise NoDatabase(f"{_describe_store(settings.store.url)} has no voicepay schema: nothing to read")
            else:
                await store.migrate()
                await sync_tenants(store, settings)
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(main())


# --- serve ---------------------------------------------------------------------------------------------


def _listen_failed(exc: OSError, host: str, port: int) -> int:
    reason = {
        errno.EADDRINUSE: "the address is already in use (another process listens there; pick another --port)",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "that address does not belong to this machine",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    print(f"voicepay serve: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
    return 1


def _env_port() -> int | None:
    raw = os.environ.get("VOICEPAY_SERVER__PORT") or None
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SettingsError("VOICEPAY_SERVER__PORT must be a port number") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging

    workers = args.workers
    if workers < 1:
        print("voicepay serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.sandbox and not args.config:
        if workers > 1:
            print("voicepay serve: --sandbox runs one process (its emulators and SQLite live in it); "
                  "drop --workers", file=sys.stderr)
            return 2
        from gateway.sandbox import run_sandbox
        from gateway.server import run

        host = args.host or "127.0.0.1"
        port = args.port if args.port is not None else (_env_port() or 8080)
        print(f"voicepay: config sandbox (from --sandbox); database sqlite {sandbox_var_dir()}/"
              "voicepay-sandbox.sqlite3", file=sys.stderr, flush=True)
        try:
            return run(run_sandbox(config=args.config, host=host, port=port))
        except OSError as exc:
            return _listen_failed(exc, host, port)
    if find_config(args)[0] is None:
        # Found only the sandbox's var/: serving that needs its emulators, which --sandbox starts.
        print("voicepay serve: no config file (--config, $VOICEPAY_CONFIG, ./voicepay.toml); "
              "use --sandbox for sandbox mode", file=sys.stderr)
        return 2
    settings = _settings(args)
    host = args.host or settings.server.host
    port = args.port if args.port is not None else settings.server.port
    if workers > 1 and _sqlite_path(settings.store.url) is not None:
        print("voicepay serve: --workers > 1 needs PostgreSQL (store.url = postgresql://...): SQLite has one "
              "writer, so several processes would only wait on each other's locks", file=sys.stderr)
        return 2
    configure_logging(settings.logging.level)
    from gateway.app import create_app
    from gateway.server import run, serve_app, tls_context

    ssl_context = tls_context(settings.server.tls_cert, settings.server.tls_key)

    def serve_one(reuse_port: bool = False) -> int:
        run(
            serve_app(
                create_app(settings),
                host,
                port,
                shutdown_timeout=settings.server.shutdown_timeout,
                ssl_context=ssl_context,
                access_log=settings.logging.access_log,
                reuse_port=reuse_port,
            )
        )
        return 0

    try:
        if workers == 1:
            return serve_one()
        from gateway.workers import serve_workers

        return serve_workers(workers, host, port, lambda: serve_one(reuse_port=True))
    except OSError as exc:
        return _listen_failed(exc, host, port)


def cmd_migrate(args: argparse.Namespace) -> int:
    async def run(store: Any) -> int:
        print(f"schema version {await store.schema_version()}")
        return 0

    return _with_store(args, run)


# --- keys ----------------------------------------------------------------------------------------------


def cmd_keys_create(args: argparse.Namespace) -> int:
    from gateway.auth import AgentKeys, UnknownScope

    settings = _settings(args, announce=False)
    if settings.tenant(args.tenant) is None:
        print(f"no tenant {args.tenant!r} in the configuration", file=sys.stderr)
        return 2

    async def run(store: Any) -> int:
        try:
            identity, key = await AgentKeys(store).create(args.tenant, args.scopes.split(","), args.label)
        except UnknownScope as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(key)
        print(f"key id {identity.key_id}, tenant {identity.tenant_id}, scopes {' '.join(sorted(identity.scopes))}",
              file=sys.stderr)
        print("This key is shown once; store it in the agent platform's secret store.", file=sys.stderr)
        return 0

    return _with_store(args, run)


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from gateway.auth import AgentKeys

    async def run(store: Any) -> int:
        if await AgentKeys(store).revoke(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no active key {args.key_id}", file=sys.stderr)
        return 1

    return _with_store(args, run, readonly=True)


def cmd_keys_list(args: argparse.Namespace) -> int:
    from gateway.auth import AgentKeys

    async def run(store: Any) -> int:
        for row in await AgentKeys(store).list(args.tenant):
            print(json.dumps(row))
        return 0

    return _with_store(args, run, readonly=True)


# --- secrets -------------------------------------------------------------------------------------------


def cmd_secrets_genkey(args: argparse.Namespace) -> int:
    print(generate_master_key(args.id))
    print("Put this in VOICEPAY_MASTER_KEYS (newest first) or the master key file; keep it out of git.",
          file=sys.stderr)
    return 0


def _ring(args: argparse.Namespace) -> MasterKeyRing:
    ring = MasterKeyRing.from_environment(key_file=getattr(args, "key_file", None))
    if not ring:
        raise SecretError("no master key: set VOICEPAY_MASTER_KEYS or VOICEPAY_MASTER_KEY_FILE")
    return ring


def cmd_secrets_encrypt(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        print("Type the secret, then Enter (it is not echoed to argv or shell history):", file=sys.stderr)
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        print("empty secret on stdin", file=sys.stderr)
        return 2
    print(_ring(args).encrypt(value))
    return 0


def cmd_secrets_rotate(args: argparse.Namespace) -> int:
    ring = _ring(args)
    count = rotate_file(args.file, ring)
    print(f"re-encrypted {count} value(s) in {args.file} under key {ring.newest.key_id}")
    return 0


# --- audit ---------------------------------------------------------------------------------------------


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from gateway import audit

    async def run(store: Any) -> int:
        checked, problems = await audit.verify(store, args.tenant)
        for p in problems:
            print(f"BROKEN tenant={p.tenant_id} seq={p.seq}: {p.problem}")
        print(f"checked {checked} row(s): {'OK' if not problems else f'{len(problems)} problem(s)'}")
        return 0 if not problems else 1

    return _with_store(args, run, readonly=True)


def cmd_audit_tail(args: argparse.Namespace) -> int:
    from gateway import audit

    async def run(store: Any) -> int:
        for row in await audit.tail(store, args.tenant, args.n):
            print(json.dumps(row, default=str))
        return 0

    return _with_store(args, run, readonly=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return asyncio.run(run_demo())


def cmd_redact(args: argparse.Namespace) -> int:
    from redaction.cli import main as redact_main

    return redact_main(list(args.rest))


# --- webhooks and notifications ------------------------------------------------------------------------


def parse_since(value: str, now: float | None = None) -> float:
    """``--since``: epoch seconds, an ISO 8601 time (UTC unless it says otherwise), or an age like ``30m``,
    ``2h``, ``3d`` (that long ago)."""
    import re
    import time
    from datetime import UTC, datetime

    current = time.time() if now is None else now
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", value.strip())
    if m:
        return current - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {value!r} (epoch, ISO 8601, or 30m/2h/3d)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def cmd_webhooks_list(args: argparse.Namespace) -> int:
    from gateway.webhooks import list_events

    async def run(store: Any) -> int:
        for row in await list_events(store, tenant_id=args.tenant, status=args.status, since=args.since,
                                     limit=args.limit):
            print(json.dumps(row, default=str))
        return 0

    return _with_store(args, run, readonly=True)


def cmd_webhooks_show(args: argparse.Namespace) -> int:
    from gateway.webhooks import get_event

    async def run(store: Any) -> int:
        row = await get_event(store, args.event_id, tenant_id=args.tenant)
        if row is None:
            print(f"no stored event {args.event_id}", file=sys.stderr)
            return 1
        print(json.dumps(row, indent=2, default=str))
        return 0

    return _with_store(args, run, readonly=True)


def cmd_webhooks_replay(args: argparse.Namespace) -> int:
    from gateway.webhooks import replay_events

    if (args.event_id is None) == (args.since is None):
        print("voicepay webhooks replay: give an event id or --since TIME (not both)", file=sys.stderr)
        return 2

    async def run(store: Any) -> int:
        queued = await replay_events(store, event_id=args.event_id, since=args.since, tenant_id=args.tenant)
        for event_id in queued:
            print(f"queued {event_id}")
        print(f"{len(queued)} event(s) queued; a running gateway processes them", file=sys.stderr)
        return 0 if queued else 1

    return _with_store(args, run, readonly=True)


def cmd_notifications_list(args: argparse.Namespace) -> int:
    from gateway.notifications import list_notifications

    async def run(store: Any) -> int:
        for row in await list_notifications(store, tenant_id=args.tenant, state=args.state, limit=args.limit,
                                            with_attempts=args.attempts):
            print(json.dumps(row, default=str))
        return 0

    return _with_store(args, run, readonly=True)


def cmd_notifications_replay(args: argparse.Namespace) -> int:
    from gateway.notifications import replay_notifications

    if (args.notification_id is None) == (args.since is None):
        print("voicepay notifications replay: give a notification id or --since TIME (not both)", file=sys.stderr)
        return 2

    async def run(store: Any) -> int:
        queued = await replay_notifications(
            store, notification_id=args.notification_id, since=args.since, tenant_id=args.tenant
        )
        for nid in queued:
            print(f"queued {nid}")
        return 0 if queued else 1

    return _with_store(args, run, readonly=True)


def cmd_operators_create(args: argparse.Namespace) -> int:
    """A console operator (a person, not an agent key). The password is read from stdin, never argv."""
    from gateway.console.auth import OperatorError, create_operator

    grants: dict[str, Any] = {}
    for grant in args.grant:
        tenant, _, role = grant.partition(":")
        if not tenant or not role:
            print("--grant takes TENANT:ROLE (role: viewer, agent or admin)", file=sys.stderr)
            return 2
        grants[tenant] = role
    password = sys.stdin.readline().rstrip("\r\n")

    async def run(store: Any) -> int:
        try:
            op_id = await create_operator(store, args.username, password, grants)
        except OperatorError as exc:
            print(f"voicepay operators create: {exc}", file=sys.stderr)
            return 2
        print(op_id)
        print(f"operator {args.username} ({op_id}): " + ", ".join(f"{t} {r}" for t, r in sorted(grants.items())),
              file=sys.stderr)
        return 0

    return _with_store(args, run)


# --- parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="voicepay", description="voicepay-gateway: payments for AI voice agents")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser, required: bool = False) -> argparse.ArgumentParser:
        sp.add_argument("--config", "-c", required=required,
                        help=f"TOML config file (default: ${CONFIG_ENV}, then ./{LOCAL_CONFIG}, then the "
                        "sandbox's var/ if it exists)")
        sp.add_argument("--sandbox", action="store_true",
                        help="sandbox mode: serve with the built-in Stripe and PCI Pal emulators and SQLite under "
                        "var/ (what `make run` does); for other commands, use that sandbox's database")
        return sp

    s = with_config(sub.add_parser("serve", help="run the gateway"))
    s.add_argument("--host", default=None, help="address to listen on (default: server.host, 127.0.0.1)")
    s.add_argument("--port", type=int, default=None,
                   help="port to listen on (default: server.port or $VOICEPAY_SERVER__PORT, 8080)")
    s.add_argument("--workers", type=int, default=1,
                   help="gateway processes sharing the port (SO_REUSEPORT under a parent that restarts a dead "
                   "one); more than 1 needs PostgreSQL. Usually one per core")
    s.set_defaults(func=cmd_serve)

    s = with_config(sub.add_parser("migrate", help="apply database migrations"))
    s.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="agent keys").add_subparsers(dest="sub", required=True)
    s = with_config(keys.add_parser("create", help="create a key (printed once)"))
    s.add_argument("--tenant", required=True, help="tenant id the key acts for (as in the config)")
    s.add_argument("--scopes", required=True, help="comma-separated, e.g. payments:read,refunds:write")
    s.add_argument("--label", default="", help="a note to recognise the key by (never secret)")
    s.set_defaults(func=cmd_keys_create)
    s = with_config(keys.add_parser("revoke", help="revoke a key by id"))
    s.add_argument("key_id", help="the key id (from `voicepay keys list`), not the key itself")
    s.set_defaults(func=cmd_keys_revoke)
    s = with_config(keys.add_parser("list", help="list keys (ids and scopes, never the keys)"))
    s.add_argument("--tenant", default=None, help="only this tenant's keys")
    s.set_defaults(func=cmd_keys_list)

    sec = sub.add_parser("secrets", help="encrypted config secrets").add_subparsers(dest="sub", required=True)
    s = sec.add_parser("genkey", help="print a new master key entry id:base64key")
    s.add_argument("--id", default=None, help="key id to embed (default: a random one)")
    s.set_defaults(func=cmd_secrets_genkey)
    s = sec.add_parser("encrypt", help="encrypt a value read from stdin under the newest master key")
    s.add_argument("--key-file", default=None,
                   help="master key file (default: $VOICEPAY_MASTER_KEYS or $VOICEPAY_MASTER_KEY_FILE)")
    s.set_defaults(func=cmd_secrets_encrypt)
    s = sec.add_parser("rotate", help="re-encrypt every value in a config file under the newest key")
    s.add_argument("file", help="the TOML or env file whose enc:v1: values are re-encrypted in place")
    s.add_argument("--key-file", default=None,
                   help="master key file (default: $VOICEPAY_MASTER_KEYS or $VOICEPAY_MASTER_KEY_FILE)")
    s.set_defaults(func=cmd_secrets_rotate)

    aud = sub.add_parser("audit", help="the audit log").add_subparsers(dest="sub", required=True)
    s = with_config(aud.add_parser("verify", help="check the hash chains"))
    s.add_argument("--tenant", default=None, help="only this tenant's chain")
    s.set_defaults(func=cmd_audit_verify)
    s = with_config(aud.add_parser("tail", help="the newest entries"))
    s.add_argument("--tenant", default=None, help="only this tenant's entries")
    s.add_argument("-n", type=int, default=20, help="how many entries (default 20)")
    s.set_defaults(func=cmd_audit_tail)

    s = sub.add_parser("demo", help="a scripted call against sandbox mode (offline), then a card-data scan")
    s.set_defaults(func=cmd_demo)

    wh = sub.add_parser("webhooks", help="stored Stripe webhook events").add_subparsers(dest="sub", required=True)
    s = with_config(wh.add_parser("list", help="newest events first"))
    s.add_argument("--tenant", default=None, help="only this tenant's events")
    s.add_argument("--status", choices=["queued", "processed", "ignored", "dead"], default=None,
                   help="only events in this state")
    s.add_argument("--since", type=parse_since, default=None, help="epoch, ISO 8601, or an age: 30m, 2h, 3d")
    s.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    s.set_defaults(func=cmd_webhooks_list)
    s = with_config(wh.add_parser("show", help="one event with its (redacted) payload"))
    s.add_argument("event_id", help="Stripe event id (evt_...)")
    s.add_argument("--tenant", default=None, help="the tenant the event belongs to")
    s.set_defaults(func=cmd_webhooks_show)
    s = with_config(wh.add_parser("replay", help="queue events for processing again (dead letters included)"))
    s.add_argument("event_id", nargs="?", default=None, help="Stripe event id (evt_...); or use --since")
    s.add_argument("--since", type=parse_since, default=None, help="every event received since TIME")
    s.add_argument("--tenant", default=None, help="only this tenant's events")
    s.set_defaults(func=cmd_webhooks_replay)

    nt = sub.add_parser("notifications", help="agent notifications").add_subparsers(dest="sub", required=True)
    s = with_config(nt.add_parser("list", help="newest first"))
    s.add_argument("--tenant", default=None, help="only this tenant's notifications")
    s.add_argument("--state", choices=["pending", "delivered", "failed", "skipped"], default=None,
                   help="only notifications in this state")
    s.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    s.add_argument("--attempts", action="store_true", help="include every delivery attempt")
    s.set_defaults(func=cmd_notifications_list)
    s = with_config(nt.add_parser("replay", help="send notifications again (same id and body)"))
    s.add_argument("notification_id", nargs="?", default=None, help="notification id (ntf_...); or use --since")
    s.add_argument("--since", type=parse_since, default=None,
                   help="every notification created since TIME (epoch, ISO 8601, or 30m/2h/3d)")
    s.add_argument("--tenant", default=None, help="only this tenant's notifications")
    s.set_defaults(func=cmd_notifications_replay)

    ops = sub.add_parser("operators", help="console operators").add_subparsers(dest="sub", required=True)
    s = with_config(ops.add_parser("create", help="create an operator; the password is read from stdin"))
    s.add_argument("--username", required=True, help="the login name (letters, digits, . - _)")
    s.add_argument("--grant", action="append", required=True, metavar="TENANT:ROLE",
                   help="a role (viewer, agent, admin) in a tenant; repeat for several tenants")
    s.set_defaults(func=cmd_operators_create)

    s = sub.add_parser("redact", help="redact card data from stdin to stdout")
    s.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the redactor (see `voicepay redact --help`)")
    s.set_defaults(func=cmd_redact)

    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except (SettingsError, SecretError) as exc:
        print(f"voicepay: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
