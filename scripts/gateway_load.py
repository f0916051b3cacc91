#!/usr/bin/env python3
"""Sequential calls through one keep-alive connection to `threecx serve`: the gateway's own cost
per call, for comparing two builds side by side (see scripts/bench-gateway.sh).

Usage: gateway_load.py PORT KEY CALLS RESOURCE ACTION INPUT_JSON
Prints `calls_per_s=N` and `median_us=N` (per-call latency).
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def main():
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
