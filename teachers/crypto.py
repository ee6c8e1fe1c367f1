"""Encryption at rest for the teachers' Canvas tokens (Fernet: AES-128-CBC with HMAC-SHA256).

The key is ``settings.TOKEN_ENCRYPTION_KEY`` (a Fernet key; several, comma-separated, to rotate:
the first encrypts, all decrypt) or, when that is empty, one derived from ``SECRET_KEY`` with
HKDF, so that a first look needs no extra setting.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fixed labels keep the derived key apart from every other use of SECRET_KEY.
_HKDF_SALT = b"gpb-dashboard teachers"
_HKDF_INFO = b"canvas-token-encryption v1"


class TokenDecryptionError(Exception):
    """A stored token cannot be read with the current key (the key changed or the row is bad)."""

    def __init__(self) -> None:
        super().__init__(
            "Your saved Canvas sign-in can no longer be read (the server's encryption key "
            "changed). Please sign in with Canvas again."
        )


def token_encrypt(plain: str) -> str:
    """The token encrypted and authenticated, as text for a TextField ("" stays "")."""
    if not plain:
        return ""
    return _fernet(*_key_settings()).encrypt(plain.encode()).decode("ascii")


def token_decrypt(cipher: str) -> str:
    """The plain token; TokenDecryptionError when the current key cannot read it."""
    if not cipher:
        return ""
    try:
        return _fernet(*_key_settings()).decrypt(cipher.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise TokenDecryptionError() from exc


def _key_settings() -> tuple[str, str]:
    # Read on every call (cheap; the Fernet objects are cached) so that settings overrides apply.
    return getattr(settings, "TOKEN_ENCRYPTION_KEY", "") or "", settings.SECRET_KEY


@functools.lru_cache(maxsize=8)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    if not keys:
        return MultiFernet([Fernet(_derived_key(secret_key))])
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes), e.g. "
            'from python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from exc


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))
