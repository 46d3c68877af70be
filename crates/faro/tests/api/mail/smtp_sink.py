#!/usr/bin/env python3
"""An SMTP server for the tests (aiosmtpd, the Python project's own): what a mail relay gets.

    python3 smtp_sink.py MAIL_FILE

Listens on 127.0.0.1 on a free port and prints `listening on PORT` once ready. Each message it
accepts is parsed with the standard library's email parser and appended to MAIL_FILE as one
JSON line: {"from": envelope sender, "to": [recipients], "subject": ..., "from_header": ...,
"to_header": ..., "content_type": ..., "text": the decoded body}.
"""

import asyncio
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        line = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(msg["subject"]),
            "from_header": str(msg["from"]),
            "to_header": str(msg["to"]),
            "content_type": msg.get_content_type(),
            "text": body.get_content() if body is not None else "",
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    controller = Controller(Sink(sys.argv[1]), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on {port}", flush=True)
    try:
        # Until the test kills us (or closes stdin).
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
