"""Keys derived from OMNIROUTE_SECRET_KEY: channel-secret encryption, token signing, hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from router.errors import SecretKeyMismatch


def derive_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes for one purpose; separate purposes never share key material."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"omniroute", info=purpose.encode()
    ).derive(secret_key.encode())


class SecretBox:
    """Encrypts channel secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "channel-secrets")))
        self.check_value = hmac.new(
            derive_key(secret_key, "key-check"), b"omniroute", hashlib.sha256
        ).hexdigest()

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyMismatch(
                "channel secrets cannot be decrypted: OMNIROUTE_SECRET_KEY differs from the key "
                "they were stored with"
            ) from exc
        return data


def hash_api_key(key: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough (no dictionary to guard).
    return hashlib.sha256(key.encode()).hexdigest()


def sign(secret: bytes | str, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()
