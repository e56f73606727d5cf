#!/usr/bin/python3
"""An SMTP server for tests that delivers nowhere: every message it accepts becomes one JSON line.

    /usr/bin/python3 testing/smtp/sink.py --out DIR/mail.jsonl [--port 0]

Listens on 127.0.0.1 only. With --port 0 (the default) it picks a free port. Once it accepts
connections it prints `PORT=n` on stdout, so a test can wait for that line. Each line of --out has
`mail_from`, `rcpt_tos`, `subject` and `text` (the decoded text/plain part) and `data` (the message
as received). Needs aiosmtpd: Debian's python3-aiosmtpd (for /usr/bin/python3) or `pip install
aiosmtpd`. Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal
import sys

from aiosmtpd.smtp import SMTP


class JsonLinesHandler:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": message.get("Subject"),
            "text": body.get_content() if body is not None else None,
            "data": data.decode("utf-8", "replace"),
        }
        # One write and a flush per message, so that a reader never sees half a line.
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


async def serve(port, out):
    loop = asyncio.get_running_loop()
    handler = JsonLinesHandler(out)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.localhost", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"PORT={server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
