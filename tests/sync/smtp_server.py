"""A tiny SMTP server on 127.0.0.1 for delivery tests: accepts mail, refuses chosen recipients.

It speaks just enough SMTP for ``smtplib`` (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and
records every message it accepted, so that tests exercise Django's real SMTP backend.
"""

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpState:
    refused: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." reply
    received: list[Received] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    state: SmtpState

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address in self.state.refused:
                    self.reply(self.state.refused[address])
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(chunk)
                self.state.received.append(Received(sender, recipients, b"".join(body)))
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpServer:
    def __init__(self) -> None:
        self.state = SmtpState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmtpServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
