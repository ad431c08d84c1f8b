"""Run the Xero sandbox: python -m connectors.sandbox.xero --port 8200 ..."""

import argparse
import os

from connectors.sandbox.xero.server import build


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="A local stand-in for Xero's APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(env("XERO_SANDBOX_PORT", "8200")))
    parser.add_argument("--client-id", default=env("XERO_CLIENT_ID", "demo-xero-client"))
    parser.add_argument("--client-secret", default=env("XERO_CLIENT_SECRET", "demo-xero-secret"))
    parser.add_argument("--webhook-url", default=env("XERO_WEBHOOK_URL", ""))
    parser.add_argument("--webhook-key", default=env("XERO_WEBHOOK_KEY", "demo-xero-webhook-key"))
    parser.add_argument("--minute-limit", type=int, default=60)
    args = parser.parse_args()
    sandbox = build(
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        minute_limit=args.minute_limit,
        webhook_url=args.webhook_url,
        webhook_key=args.webhook_key,
    )
    print(
        f"Xero sandbox console: {sandbox.url}/  (webhooks to {args.webhook_url or 'nowhere'})",
        flush=True,
    )
    try:
        sandbox.server.serve_forever()
    finally:
        sandbox.sender.stop()


if __name__ == "__main__":
    main()
