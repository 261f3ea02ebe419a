#!/usr/bin/env python3
"""Times the portal's pages against a running `lore serve` (loopback, one keep-alive
connection, so the figure is the server's time plus well under a millisecond).

    python3 scripts/bench-portal.py http://127.0.0.1:7474 [N]

Picks a service, datastore, runbook and postmortem from /v1/nodes, warms each page once,
then requests it N times (default 100) and prints p50 and p99 in milliseconds.
"""

import http.client
import json
import sys
import time
import urllib.parse


def main():
    base = urllib.parse.urlparse(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)

    def get(path):
        conn.request("GET", path, headers={"accept": "text/html"})
        res = conn.getresponse()
        body = res.read()
        return res.status, body

    def first(kind, prefer=None):
        _, body = get(f"/v1/nodes?kind={kind}")
        nodes = json.loads(body)["nodes"]
        for node in nodes:
            if prefer and node["name"] == prefer:
                return node
        return nodes[0] if nodes else None

    q = urllib.parse.quote
    service = first("service", "checkout")
    datastore = first("datastore")
    runbook = first("runbook")
    postmortem = first("postmortem")
    pages = [
        ("search (empty)", "/search"),
        ("search (hybrid)", "/search?q=" + q("the card processor is slow to answer")),
        ("search (filtered)", "/search?q=" + q("pods keep restarting") + "&kind=runbook"),
        ("search fragment", "/search?fragment=1&q=" + q("database connections exhausted")),
        ("catalog", "/services"),
        ("service", "/services/" + q(service["id"], safe="")),
        ("service depth 3", "/services/" + q(service["id"], safe="") + "?depth=3"),
    ]
    if datastore:
        pages.append(("datastore", "/services/" + q(datastore["id"], safe="")))
    if runbook:
        pages.append(("runbook", "/docs/" + q(runbook["id"], safe="")))
    if postmortem:
        pages.append(("postmortem", "/docs/" + q(postmortem["id"], safe="")))
    pages.append(("incident", "/incident?service=" + q(service["name"])))
    print(f"{'page':20} {'p50 ms':>8} {'p99 ms':>8} {'KiB':>6}")
    for name, path in pages:
        status, body = get(path)
        if status != 200:
            print(f"{name:20} status {status}: {body[:200]!r}")
            continue
        times = []
        for _ in range(n):
            started = time.perf_counter()
            get(path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50, p99 = times[len(times) // 2], times[min(len(times) - 1, len(times) * 99 // 100)]
        print(f"{name:20} {p50:8.2f} {p99:8.2f} {len(body) / 1024:6.0f}")


if __name__ == "__main__":
    main()
