"""Personal fields sealed under a per-person key (crypto-shredding).

An event keeps a person's name as `sealed:v1:<base64url>`: AES-256-GCM under a key that only
the owning service holds, one key per person, with the person's id as associated data (a
sealed value copied into another person's event does not open). The value stays a string, so
the events' JSON Schemas hold as written. Erasing the person deletes the key: every copy of the
event, in the log, a dead-letter topic, a backup or an outbox, can then no longer be read for
that field.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12


class CannotOpen(ValueError):
    """The value is not sealed, is damaged, or was sealed under another key or person."""


def new_key() -> bytes:
    """A fresh random key for one person."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(key: bytes, person_id: str, text: str) -> str:
    """`text` readable only with `key`, and only as `person_id`'s."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), person_id.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_sealed(key: bytes, person_id: str, value: str) -> str:
    """The text `seal` sealed; CannotOpen otherwise."""
    if not is_sealed(value):
        raise CannotOpen("not a sealed value")
    body = value.removeprefix(PREFIX)
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CannotOpen("not base64url") from exc
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, person_id.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise CannotOpen("another key or person, or damaged") from exc
