"""An on-call agent's first move, over MCP: page on an alert, ask Lore for the incident
context, print the bundle, then follow up on the top suspect.

    .venv/bin/python examples/mcp_agent.py                      # spawns `lore mcp` (stdio)
    .venv/bin/python examples/mcp_agent.py --url http://127.0.0.1:7474/mcp

With stdio it runs `lore mcp` (LORE_BIN, else target/debug/lore, else `lore` on PATH) on
the data dir in LORE_DATA_DIR (or `--data-dir`). Uses the official MCP Python SDK
(`mcp` from PyPI; `bash scripts/setup` installs it into .venv).
"""

import argparse
import asyncio
import os
import shutil
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

# The page: an Alertmanager alert as it fires.
ALERT = {
    "alert": "CheckoutHighErrorRate",
    "labels": {"service": "checkout", "namespace": "shop", "severity": "page"},
    "at": "2026-10-27T13:55:00Z",
    "budget_tokens": 2000,
}


def lore_bin():
    for candidate in (os.environ.get("LORE_BIN"), "target/debug/lore", shutil.which("lore")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("no lore binary: build it (cargo build) or set LORE_BIN")


async def page(session):
    await session.initialize()
    tools = {t.name for t in (await session.list_tools()).tools}
    print(f"# Lore offers {len(tools)} tools: {', '.join(sorted(tools))}\n")
    bundle = await session.call_tool("incident_context", ALERT)
    if bundle.is_error:
        sys.exit(f"incident_context failed: {bundle.content[0].text}")
    print(bundle.content[0].text)
    suspects = (bundle.structured_content or {}).get("result", {}).get("suspects", [])
    if suspects:
        top = suspects[0]["name"]
        owners = await session.call_tool("owners", {"service": top})
        print(f"\n# Top suspect {top}: who to call\n{owners.content[0].text}")


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="streamable HTTP endpoint of `lore serve` (…/mcp)")
    parser.add_argument("--data-dir", default=os.environ.get("LORE_DATA_DIR", ".lore"))
    args = parser.parse_args()
    if args.url:
        async with streamable_http_client(args.url) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await page(session)
    else:
        env = dict(os.environ, LORE_DATA_DIR=args.data_dir)
        server = StdioServerParameters(command=lore_bin(), args=["mcp"], env=env)
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write) as session:
                await page(session)


if __name__ == "__main__":
    asyncio.run(main())
