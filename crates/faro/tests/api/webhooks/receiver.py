#!/usr/bin/env python3
"""A webhook receiver for the API tests: a third party's view of Faro's deliveries.

Listens on 127.0.0.1 at a random port and prints `PORT <n>` on its first line. Every
`POST /hook/<name>[?fail=N&hang=M]` is verified with the `standardwebhooks` package
(`Webhook(secret).verify(body, headers)`, the secret registered for <name>) and recorded,
verified or not, with its headers. The n-th request to a name is answered:

- n <= M (`hang`): no answer for HANG_SECONDS (longer than the tests' timeout), then the
  connection is closed;
- n <= M + N (`fail`): 500;
- otherwise 200.

Control endpoints:

- `PUT /secrets/<name>` with the `whsec_...` secret as the body: verify <name>'s requests;
- `GET /received`: every recorded request as JSON, in arrival order:
  `[{name, n, headers: {lower-case name: value}, body, verified, error, answer, at}]`.

Requires the pinned `standardwebhooks` from scripts/test-requirements.txt.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    from standardwebhooks.webhooks import Webhook
except ImportError:
    sys.stderr.write(
        "receiver.py needs the standardwebhooks package: "
        "python3 -m pip install -r scripts/test-requirements.txt\n"
    )
    sys.exit(3)

HANG_SECONDS = 4.0

lock = threading.Lock()
secrets = {}
counts = {}
received = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urlsplit(self.path).path == "/received":
            with lock:
                snapshot = list(received)
            self._answer(200, snapshot)
        else:
            self._answer(404, {"error": "not found"})

    def do_PUT(self):
        path = urlsplit(self.path).path
        body = self._body()
        if path.startswith("/secrets/"):
            with lock:
                secrets[path[len("/secrets/"):]] = body.decode()
            self._answer(200, {"ok": True})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self._body()
        parts = url.path.split("/")
        if len(parts) != 3 or parts[1] != "hook":
            self._answer(404, {"error": "not found"})
            return
        name = parts[2]
        query = parse_qs(url.query)
        fail = int(query.get("fail", ["0"])[0])
        hang = int(query.get("hang", ["0"])[0])
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            n = counts.get(name, 0) + 1
            counts[name] = n
            secret = secrets.get(name)
        verified, error = False, None
        if secret is None:
            error = "no secret registered for " + name
        else:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
            except Exception as e:  # the library's WebhookVerificationError and friends
                error = "%s: %s" % (type(e).__name__, e)
        if n <= hang:
            answer = "hang"
        elif n <= hang + fail:
            answer = "500"
        else:
            answer = "200"
        with lock:
            received.append({
                "name": name,
                "n": n,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "verified": verified,
                "error": error,
                "answer": answer,
                "at": time.time(),
            })
        if answer == "hang":
            time.sleep(HANG_SECONDS)
            self.close_connection = True
            return
        if answer == "500":
            self._answer(500, {"error": "the receiver was told to fail"})
        else:
            self._answer(200, {"ok": True})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
