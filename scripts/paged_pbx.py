#!/usr/bin/env python3
"""A minimal paged XAPI stand-in on 127.0.0.1 for whole-process benchmarks of the CLI.

Serves POST /connect/token and GET /xapi/v1/Users with $top/$skip over N generated users, so
`threecx call Users "List User" --all` can be measured without a PBX. Usage:
    paged_pbx.py PORT N
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, N = int(sys.argv[1]), int(sys.argv[2])


def user(i):
    return {"Id": i + 1, "Number": str(1000 + i), "FirstName": f"First{i}", "LastName": f"Last{i}",
            "EmailAddress": f"user{i}@example.com", "Enabled": i % 7 != 0, "Mobile": None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/connect/token":
            self.send_json(200, {"token_type": "Bearer", "expires_in": 3600,
                                 "access_token": "bench-token", "refresh_token": None})
        else:
            self.send_json(404, {"error": {"code": "", "message": "not found"}})

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/xapi/v1/Users":
            return self.send_json(404, {"error": {"code": "", "message": "not found"}})
        q = parse_qs(url.query)
        top, skip = int(q.get("$top", [N])[0]), int(q.get("$skip", [0])[0])
        self.send_json(200, {"@odata.count": N, "value": [user(i) for i in range(skip, min(N, skip + top))]})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
