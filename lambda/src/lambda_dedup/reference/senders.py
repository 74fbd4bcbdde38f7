"""Where the SNS handler's welcome messages go: a pluggable sender.

A real deployment plugs in its mail or messaging client (:func:`use_sender`); the default
:class:`RecordingSender` keeps what it was given, so that tests and the local runner can
count the messages that were actually sent.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

__all__ = ["RecordingSender", "Sender", "SentMessage", "WelcomeMessage", "sender", "use_sender"]


@dataclass(frozen=True, slots=True)
class WelcomeMessage:
    """A welcome message for a new user."""

    user_id: str
    to: str
    subject: str
    text: str


class Sender(Protocol):
    """Sends a message outside AWS and returns the provider's message id."""

    def send(self, message: WelcomeMessage, *, idempotency_token: str) -> str:
        """Send ``message``. ``idempotency_token`` is the claim's fencing token: a
        provider that accepts an idempotency key should get it."""
        ...


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message a :class:`RecordingSender` sent."""

    message_id: str
    message: WelcomeMessage
    idempotency_token: str


class RecordingSender:
    """The default sender: records every message it is asked to send, thread-safely."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[SentMessage] = []

    def send(self, message: WelcomeMessage, *, idempotency_token: str) -> str:
        message_id = uuid.uuid4().hex
        with self._lock:
            self._sent.append(SentMessage(message_id, message, idempotency_token))
        return message_id

    @property
    def sent(self) -> list[SentMessage]:
        """A copy of what was sent, oldest first."""
        with self._lock:
            return list(self._sent)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()


_current: Sender = RecordingSender()


def sender() -> Sender:
    """The sender the SNS handler uses."""
    return _current


def use_sender(new: Sender) -> Sender:
    """Make ``new`` the SNS handler's sender; returns the previous one."""
    global _current
    previous, _current = _current, new
    return previous
