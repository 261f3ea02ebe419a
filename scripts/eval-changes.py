#!/usr/bin/env python3
"""Culprit-change ranking against a gen-org truth: for every incident of POSTMORTEMS.jsonl,
is its `change` the first of GET /v1/changes (AFFECTED, depth 6, 6 h before STARTED up to
STARTED) and, with a third argument, of the incident bundle (POST /v1/context)?

Usage: scripts/eval-changes.py http://127.0.0.1:7474 ORG/truth/postmortems.jsonl [ctx]
against `lore serve` over an org ingested without its postmortems (docs/benchmarks.md)."""
import json, sys, subprocess, time, urllib.request, urllib.parse, datetime
base = sys.argv[1]
pms = [json.loads(l) for l in open(sys.argv[2])]
first = top3 = n = 0; ctx_first = 0; misses = []
for p in pms:
    started = p.get("started") or p.get("alert_fired") or p.get("start")
    t = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
    since = (t - datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = urllib.parse.urlencode({"node": p["affected"], "depth": 6, "since": since, "until": started})
    r = json.load(urllib.request.urlopen(f"{base}/v1/changes?{q}"))
    ids = [x["id"] for x in r["results"]]
    n += 1
    if ids[:1] == [p["change"]]: first += 1
    else: misses.append((p["id"], p["change"], ids[:3], [x.get("degradation") for x in r["results"][:2]]))
    if p["change"] in ids[:3]: top3 += 1
    if len(sys.argv) > 3:
        body = json.dumps({"service": p["affected"], "at": started, "budget_tokens": 4000}).encode()
        req = urllib.request.Request(f"{base}/v1/context", body, {"content-type": "application/json"})
        b = json.load(urllib.request.urlopen(req))
        cids = [c["id"] for c in b.get("changes", [])]
        if cids[:1] == [p["change"]]: ctx_first += 1
print(f"changes first {first}/{n} = {first/n:.3f}, top3 {top3/n:.3f}; context first {ctx_first}/{n}")
for m in misses[:8]: print(m)
