"""Drives Lore's MCP server with the official MCP Python SDK (a client nobody here wrote):
over stdio (`lore mcp`) or streamable HTTP (`lore serve`'s /mcp), on examples/org.

    python tests/mcp_client.py stdio LORE_BIN DATA_DIR
    python tests/mcp_client.py http URL

Lists the tools, calls every tool with valid arguments and checks what each answers,
calls tools with invalid arguments and expects tool errors (not a crash), lists and reads
the document resources. Prints one line per check; exits 1 when any check fails.
Run by tests/it/mcp.rs.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

EXPECTED_TOOLS = {
    "blast_radius", "dependencies", "path", "what_changed", "owners", "runbook_for_alert",
    "similar_incidents", "incident_context", "search", "show", "drift", "add_note", "feedback",
}

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(what)


def ids(result):
    return [h.get("id") for h in result.get("results", [])]


async def call(session, name, args):
    res = await session.call_tool(name, args)
    text = res.content[0].text if res.content else ""
    return res, text, (res.structured_content or {}).get("result", res.structured_content or {})


async def exercise(session, transport):
    init = await session.initialize()
    check(f"{transport}: server is lore", init.server_info.name == "lore", init.server_info)
    tools = (await session.list_tools()).tools
    names = {t.name for t in tools}
    check(f"{transport}: every tool listed", EXPECTED_TOOLS <= names, sorted(EXPECTED_TOOLS - names))
    for t in tools:
        schema = t.input_schema
        check(f"{transport}: {t.name} has a description and an object schema",
              bool(t.description) and schema.get("type") == "object", t)

    res, text, out = await call(session, "blast_radius", {"service": "orders-db"})
    check(f"{transport}: blast_radius", not res.is_error and "service:frontend" in ids(out)
          and "service:frontend" in text, text[:300])
    res, text, out = await call(session, "dependencies", {"service": "checkout", "depth": 1})
    check(f"{transport}: dependencies", not res.is_error and "service:payment" in ids(out), text[:300])
    res, text, out = await call(session, "path", {"from": "frontend", "to": "orders-db"})
    check(f"{transport}: path", not res.is_error and out.get("found") is True and out.get("hops", 0) >= 2, text[:300])
    res, text, out = await call(session, "what_changed",
                                {"service": "checkout", "until": "2026-10-27T14:30:00Z", "window": "1d"})
    first = (out.get("results") or [{}])[0]
    check(f"{transport}: what_changed", not res.is_error and first.get("service") == "payment", text[:300])
    res, text, out = await call(session, "owners", {"service": "checkout"})
    check(f"{transport}: owners", not res.is_error and out.get("owners") == ["team-storefront"], text[:300])
    res, text, out = await call(session, "runbook_for_alert", {"alert": "PaymentProviderTimeouts"})
    top = (out.get("results") or [{}])[0]
    check(f"{transport}: runbook_for_alert", not res.is_error and top.get("kind") == "runbook"
          and "payment-provider-timeouts" in top.get("id", ""), text[:300])
    res, text, out = await call(session, "similar_incidents",
                                {"symptom": "checkout requests time out calling the payment provider"})
    top = (out.get("results") or [{}])[0]
    check(f"{transport}: similar_incidents", not res.is_error and top.get("kind") == "postmortem"
          and "payment" in top.get("id", ""), text[:300])
    res, text, out = await call(session, "incident_context",
                                {"alert": "CheckoutHighErrorRate", "labels": {"service": "checkout"},
                                 "at": "2026-10-27T13:55:00Z", "budget_tokens": 2000})
    suspects = [s.get("name") for s in out.get("suspects", [])]
    check(f"{transport}: incident_context", not res.is_error and out.get("focus", {}).get("id") == "service:checkout"
          and suspects[:1] == ["payment"] and out.get("tokens", 10**9) <= 2000 and text.startswith("# Incident context"),
          (suspects, text[:200]))
    bundle_id = out.get("bundle_id")
    res, text, out = await call(session, "search", {"query": "consumers are lagging behind", "kind": "runbook"})
    top = (out.get("results") or [{}])[0]
    check(f"{transport}: search", not res.is_error and "order-events-consumer-lag" in top.get("id", ""), text[:300])
    res, text, out = await call(session, "show", {"node": "payment"})
    check(f"{transport}: show", not res.is_error and out.get("node", {}).get("id") == "service:payment"
          and out.get("edges_in"), text[:300])
    res, text, out = await call(session, "drift", {"since": "2026-10-01"})
    check(f"{transport}: drift", not res.is_error and "observed_only" in out and "declared_only" in out, text[:300])
    res, text, out = await call(session, "add_note",
                                {"node": "payment", "text": f"{transport}: PSP fallback is active", "expires": "1d"})
    note = res.structured_content or {}
    check(f"{transport}: add_note", not res.is_error and note.get("node") == "service:payment", text[:300])
    res, text, out = await call(session, "feedback",
                                {"bundle_id": bundle_id, "item": "chg-0412", "verdict": "useful"})
    check(f"{transport}: feedback", not res.is_error and (res.structured_content or {}).get("verdict") == "useful", text[:300])

    # Invalid arguments: tool errors a person can act on, and the server keeps serving.
    for name, args, needle in [
        ("blast_radius", {"service": 5}, "service"),
        ("blast_radius", {}, "service"),
        ("blast_radius", {"service": "no-such-service-anywhere"}, "not found"),
        ("dependencies", {"service": "checkout", "depth": 999}, "depth"),
        ("feedback", {"item": "x", "verdict": "meh"}, "verdict"),
    ]:
        try:
            res = await session.call_tool(name, args)
            text = res.content[0].text if res.content else ""
            check(f"{transport}: {name} {json.dumps(args)} is a tool error", res.is_error and needle in text, text)
        except Exception as e:  # a JSON-RPC error instead of a tool error
            check(f"{transport}: {name} {json.dumps(args)} is a tool error", False, repr(e))
    res, _, _ = await call(session, "owners", {"service": "payment"})
    check(f"{transport}: still serving after errors", not res.is_error)

    resources = (await session.list_resources()).resources
    uris = [str(r.uri) for r in resources]
    check(f"{transport}: runbooks and postmortems are resources",
          any("runbook:" in u for u in uris) and any("postmortem:" in u for u in uris), uris[:5])
    runbook = next(u for u in uris if "payment-provider-timeouts" in u)
    contents = (await session.read_resource(runbook)).contents
    body = contents[0].text
    check(f"{transport}: a resource reads as Markdown marked untrusted",
          "Untrusted source text" in body and "# " in body and contents[0].mime_type == "text/markdown", body[:200])


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        env = dict(os.environ, LORE_DATA_DIR=sys.argv[3])
        server = StdioServerParameters(command=sys.argv[2], args=["mcp"], env=env)
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session, "stdio")
    else:
        # `lore serve` needs a token with the write scope for add_note and feedback.
        token = os.environ.get("LORE_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        client = create_mcp_http_client(headers=headers)
        async with streamable_http_client(sys.argv[2], http_client=client) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await exercise(session, "http")
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    asyncio.run(main())
