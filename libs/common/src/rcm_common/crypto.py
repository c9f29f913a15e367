"""Field encryption at rest (AES-256-GCM) and blind indexes (HMAC-SHA256) for PHI such as SSNs and member IDs.

Keys come from settings (a Kubernetes Secret), never from the database, so a stolen dump holds only ciphertext
and keyed digests. Each ciphertext is bound to where it lives (its context, e.g. ``patient:<uuid>:ssn``) as
associated data: a value copied onto another row or column fails to decrypt instead of leaking there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rcm_common.settings import ServiceSettings

KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_VERSION: Final = "v1"
_IGNORED_IN_INDEX: Final = re.compile(r"[\s-]")


class DecryptionError(Exception):
    """A stored value could not be decrypted; the message names the cause, never the value."""


def _check_key(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes, got {len(key)}")


def sealed_context(table: str, key: object, column: str) -> str:
    """Where a sealed value lives, bound into it as associated data: `<table>:<row's primary key>:<column>`, the
    column named without its `_encrypted` suffix and a composite key's parts joined by `:` (`reencrypt` finds
    every value's context by this rule)."""
    return f"{table}:{key}:{column}"


class FieldCipher:
    """Encrypts with the current key; decrypts with whichever key, current or older, a value names.

    Rotation: deploy the new key as current with the old one under ``previous_keys``, re-encrypt rows at
    leisure (decrypt, then encrypt), and drop the old key once no value names it.
    """

    def __init__(self, key: bytes, key_id: str = "k1", *, previous_keys: Mapping[str, bytes] | None = None) -> None:
        keys = {**(previous_keys or {}), key_id: key}
        for kid, value in keys.items():
            if not kid or ":" in kid:
                raise ValueError(f"key id {kid!r} must be non-empty and contain no ':'")
            _check_key(value, f"field encryption key {kid!r}")
        self._key_id = key_id
        self._aeads = {kid: AESGCM(value) for kid, value in keys.items()}

    @property
    def current_prefix(self) -> str:
        """How every value sealed with the current key starts."""
        return f"{_VERSION}:{self._key_id}:"

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """``v1:<key id>:<urlsafe base64 of nonce + ciphertext + tag>``, with a fresh random 96-bit nonce."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[self._key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:{self._key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        version, _, rest = token.partition(":")
        key_id, _, body = rest.partition(":")
        if version != _VERSION:
            raise DecryptionError("unsupported ciphertext format")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptionError(f"no key with id {key_id!r} is configured")
        try:
            raw = base64.b64decode(body, altchars=b"-_", validate=True)
        except binascii.Error:
            raise DecryptionError("ciphertext is not valid base64") from None
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("ciphertext is truncated")
        try:
            plaintext = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise DecryptionError("ciphertext failed authentication: tampered, wrong context or wrong key") from None
        return plaintext.decode()


class BlindIndex:
    """Keyed digests for equality lookups (find a patient by SSN) without storing or comparing plaintext.

    Values are normalised first so that formatting does not defeat a match: surrounding and inner whitespace
    and hyphens are removed and letters upper-cased, so ``123-45-6789`` and ``123 45 6789`` index alike, as do
    member IDs ``xyz-12 3`` and ``XYZ123``.
    """

    def __init__(self, key: bytes) -> None:
        _check_key(key, "blind index key")
        self._key = key

    @staticmethod
    def normalise(value: str) -> str:
        return _IGNORED_IN_INDEX.sub("", value).upper()

    def digest(self, value: str) -> str:
        normalised = self.normalise(value)
        if not normalised:
            raise ValueError("nothing to index: the value is empty after normalisation")
        return self.exact_digest(normalised)

    def exact_digest(self, value: str) -> str:
        """The keyed digest of the value as given, for keys whose every character counts (a claim's natural key)."""
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


def _decode_key(encoded: str, setting: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError(f"{setting} is not valid base64") from None
    _check_key(key, f"{setting} (after base64 decoding)")
    return key


def ciphers_from_settings(settings: ServiceSettings) -> tuple[FieldCipher, BlindIndex]:
    """The service's field cipher (its current key and any older ones) and blind index, from base64 keys."""
    encryption_key = _decode_key(settings.field_encryption_key.get_secret_value(), "RCM_FIELD_ENCRYPTION_KEY")
    key_id = settings.field_encryption_key_id
    if key_id in settings.field_previous_encryption_keys:
        raise ValueError(f"RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS names {key_id!r}, the current key's id")
    previous = {
        older_id: _decode_key(key.get_secret_value(), f"RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS[{older_id!r}]")
        for older_id, key in settings.field_previous_encryption_keys.items()
    }
    hmac_key = _decode_key(settings.field_hmac_key.get_secret_value(), "RCM_FIELD_HMAC_KEY")
    return FieldCipher(encryption_key, key_id, previous_keys=previous), BlindIndex(hmac_key)
