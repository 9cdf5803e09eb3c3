"""``python -m adapters.stripe.sandbox --host 127.0.0.1 --port 12111 --seed``"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from .core import StripeSandbox


async def _serve(args: argparse.Namespace) -> None:
    sandbox = StripeSandbox(api_key=args.api_key, seed=args.seed)
    for spec in args.webhook or []:
        url, _, secret = spec.partition("=")
        sandbox.add_webhook_endpoint(url, secret)
    url = await sandbox.start(args.host, args.port)
    # One JSON line on stdout so a parent process can learn the port (with --port 0) and the seed ids.
    print(json.dumps({"base_url": url, "api_key": args.api_key, "seed": sandbox.seed_data}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.stripe.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--api-key", default="sk_test_sandbox")
    parser.add_argument(
        "--seed", action="store_true", help="create the demo customers, payments, subscriptions"
    )
    parser.add_argument(
        "--webhook",
        action="append",
        metavar="URL=SECRET",
        help="deliver events to URL signed with SECRET (repeatable)",
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
