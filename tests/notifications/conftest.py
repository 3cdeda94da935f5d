"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the delivery tests, and helpers.

The ``smtp_server`` fixture records every message it accepts (envelope sender, recipients
and the parsed email). ``smtp_server.refuse()`` makes it answer 451 to every message (the
server is up but will not take mail now); ``smtp_server.stop()`` takes it down (connections
are refused) and ``smtp_server.start()`` brings it back on the same port.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

MAIL_FROM = "Safer Kingston Partnership <tracker@kingston.example.org>"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class RecordingHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refusal: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusal:
            return self.refusal
        # on the wire lines end in CRLF; read it back with Python's own line ends
        content = envelope.content.replace(b"\r\n", b"\n")
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd cannot take port 0 (it connects back to the port to check it is up)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.handler = RecordingHandler()
        self.controller: Controller | None = None
        self.mail_from = MAIL_FROM

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        assert self.controller is None
        # a fresh event loop each time, closed in stop(): no loop is left to the garbage
        # collector (which would warn about an unclosed loop)
        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     loop=asyncio.new_event_loop())
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller.loop.close()
            self.controller = None

    def refuse(self, reply: str = "451 4.3.0 Mail server busy: please try again later") -> None:
        self.handler.refusal = reply

    def accept(self) -> None:
        self.handler.refusal = None

    def configure(self, app: Flask, **overrides: Any) -> None:
        """Point the app's SMTP settings at this server."""
        app.config.update({"SMTP_HOST": self.host, "SMTP_PORT": self.port,
                           "SMTP_SECURITY": "none", "SMTP_USER": "", "SMTP_PASSWORD": "",
                           "MAIL_FROM": MAIL_FROM, **overrides})


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
