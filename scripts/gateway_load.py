#!/usr/bin/env python3
"""Sequential calls through one keep-alive connection to `threecx serve`: the gateway's own cost
per call, for comparing two builds side by side (see scripts/bench-gateway.sh).

Usage: gateway_load.py PORT KEY CALLS RESOURCE ACTION INPUT_JSON
Prints `calls_per_s=N` and `median_us=N` (per-call latency).
       gateway_load.py --summary FILE
Medians per action, figure and side of FILE's lines `SIDE ROUND ACTION FIGURE=VALUE`.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def summary(path):
    by = {}
    with open(path) as lines:
        for line in lines:
            side, _round, rest = line.split(" ", 2)
            action, figure = rest.rsplit(" ", 1)
            name, value = figure.strip().split("=")
            by.setdefault((action, name), {}).setdefault(side, []).append(float(value))
    print(f"{'action':14} {'figure':12} {'before':>9} {'after':>9}  (medians of the rounds)")
    for (action, name), sides in sorted(by.items()):
        before, after = (statistics.median(sides[s]) for s in ("before", "after"))
        print(f"{action:14} {name:12} {before:9.0f} {after:9.0f}")


def main():
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
        return
    port, key, calls, resource, action, input_json = sys.argv[1:7]
    calls = int(calls)
    path = "/v1/actions/{}/{}".format(
        urllib.parse.quote(resource), urllib.parse.quote(action)
    )
    body = json.dumps({"input": json.loads(input_json)}).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    took = []
    for _ in range(calls):
        start = time.perf_counter()
        conn.request("POST", path, body, headers)
        answer = conn.getresponse()
        data = answer.read()
        took.append(time.perf_counter() - start)
        if answer.status != 200:
            sys.exit(f"HTTP {answer.status}: {data[:300]!r}")
    print(f"calls_per_s={calls / sum(took):.0f}")
    print(f"median_us={statistics.median(took) * 1e6:.0f}")


if __name__ == "__main__":
    main()
