"""Run the HubSpot sandbox: python -m connectors.sandbox.hubspot --port 8100 ..."""

import argparse
import os

from connectors.sandbox.hubspot.server import build


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="A local stand-in for HubSpot's CRM API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(env("HUBSPOT_SANDBOX_PORT", "8100")))
    parser.add_argument("--access-token", default=env("HUBSPOT_ACCESS_TOKEN", "demo-hubspot-token"))
    parser.add_argument(
        "--client-secret", default=env("HUBSPOT_CLIENT_SECRET", "demo-hubspot-client-secret")
    )
    parser.add_argument("--client-id", default=env("HUBSPOT_CLIENT_ID", "demo-hubspot-client"))
    parser.add_argument("--webhook-url", default=env("HUBSPOT_WEBHOOK_URL", ""))
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
    parser.add_argument("--state-file", default=None)
    parser.add_argument("--rate-limit-per-10s", type=int, default=None)
    args = parser.parse_args()
    sandbox = build(
        host=args.host,
        port=args.port,
        access_token=args.access_token,
        client_secret=args.client_secret,
        client_id=args.client_id,
        webhook_url=args.webhook_url,
        seed=args.seed,
        state_file=args.state_file,
        rate_limit_per_10s=args.rate_limit_per_10s,
    )
    print(
        f"HubSpot sandbox console: {sandbox.url}/  (webhooks to {args.webhook_url or 'nowhere'})",
        flush=True,
    )
    try:
        sandbox.server.serve_forever()
    finally:
        sandbox.sender.stop()


if __name__ == "__main__":
    main()
