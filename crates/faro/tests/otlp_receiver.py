#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for the tests: what a collector would get from faro.

    python3 otlp_receiver.py SPANS_FILE

Listens on 127.0.0.1 on a port of its own choosing and prints `listening on PORT` once ready.
Every POST /v1/traces must carry `Content-Type: application/x-protobuf`; its body is decoded
with the `opentelemetry-proto` package (the OpenTelemetry project's own generated messages,
not faro's), and each span is appended to SPANS_FILE as one JSON line:

    {"name": ..., "trace_id": hex, "span_id": hex, "parent_span_id": hex, "kind": int,
     "attributes": {...}, "events": [{"name": ..., "attributes": {...}}],
     "resource": {...}, "scope": name, "headers": {lowercased request headers}}

The answer is an empty ExportTraceServiceResponse, as the spec asks. Anything else gets 404
(path), 405 (method), 415 (content type) or 400 (a body that does not decode).
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF = "application/x-protobuf"


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    spans_file = None

    def reply(self, status, body=b"", content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(405 if self.path == "/v1/traces" else 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            return self.reply(404)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type != PROTOBUF:
            return self.reply(415, f"expected {PROTOBUF}, got {content_type!r}".encode())
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as e:
            return self.reply(400, str(e).encode())
        headers = {k.lower(): v for k, v in self.headers.items()}
        lines = []
        for rs in request.resource_spans:
            resource = attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for span in ss.spans:
                    lines.append(
                        json.dumps(
                            {
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "kind": span.kind,
                                "attributes": attributes(span.attributes),
                                "events": [
                                    {"name": e.name, "attributes": attributes(e.attributes)}
                                    for e in span.events
                                ],
                                "resource": resource,
                                "scope": ss.scope.name,
                                "headers": headers,
                            }
                        )
                    )
        with self.lock, open(self.spans_file, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        self.reply(200, ExportTraceServiceResponse().SerializeToString(), PROTOBUF)

    def log_message(self, format, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: otlp_receiver.py SPANS_FILE")
    Handler.spans_file = sys.argv[1]
    open(Handler.spans_file, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
