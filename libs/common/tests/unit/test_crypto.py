from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from rcm_common.crypto import BlindIndex, DecryptionError, FieldCipher, ciphers_from_settings
from rcm_common.settings import ServiceSettings

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
SSN = "123-45-6789"
CONTEXT = "patient:6f1c0d1e-0000-4000-8000-000000000001:ssn"
CIPHER = FieldCipher(KEY_1)


def _flip_last_byte(token: str) -> str:
    prefix, _, body = token.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 0x01
    return f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"


# --- FieldCipher -----------------------------------------------------------------------------------------


def test_round_trip_in_the_versioned_format() -> None:
    token = CIPHER.encrypt(SSN, context=CONTEXT)

    assert token.startswith("v1:k1:")
    assert SSN not in token
    assert CIPHER.decrypt(token, context=CONTEXT) == SSN


def test_each_encryption_uses_a_fresh_nonce() -> None:
    first, second = (CIPHER.encrypt(SSN, context=CONTEXT) for _ in range(2))

    assert first != second
    body = base64.urlsafe_b64decode(first.split(":")[2])
    assert len(body) == 12 + len(SSN) + 16  # nonce, ciphertext, GCM tag


@given(plaintext=st.text(), context=st.text())
def test_any_text_round_trips(plaintext: str, context: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(plaintext, context=context), context=context) == plaintext


def test_a_value_moved_to_another_row_fails_to_decrypt() -> None:
    token = CIPHER.encrypt(SSN, context=CONTEXT)

    with pytest.raises(DecryptionError, match="authentication") as caught:
        CIPHER.decrypt(token, context=CONTEXT.replace("0001", "0002"))
    assert SSN not in str(caught.value)


def test_tampering_is_detected() -> None:
    token = CIPHER.encrypt(SSN, context=CONTEXT)

    with pytest.raises(DecryptionError, match="authentication"):
        CIPHER.decrypt(_flip_last_byte(token), context=CONTEXT)


def test_a_different_key_under_the_same_id_fails() -> None:
    token = FieldCipher(KEY_2).encrypt(SSN, context=CONTEXT)

    with pytest.raises(DecryptionError, match="authentication"):
        CIPHER.decrypt(token, context=CONTEXT)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("v2:k1:AAAA", "unsupported"),
        ("plaintext", "unsupported"),
        ("v1:k9:AAAA", "'k9'"),
        ("v1:k1:not base64!", "base64"),
        ("v1:k1:AAAA", "truncated"),
    ],
)
def test_malformed_values_are_named(token: str, message: str) -> None:
    with pytest.raises(DecryptionError, match=message):
        CIPHER.decrypt(token, context=CONTEXT)


def test_rotation_reads_old_values_and_writes_with_the_new_key() -> None:
    old_token = CIPHER.encrypt(SSN, context=CONTEXT)
    rotated = FieldCipher(KEY_2, "k2", previous_keys={"k1": KEY_1})

    new_token = rotated.encrypt(rotated.decrypt(old_token, context=CONTEXT), context=CONTEXT)

    assert new_token.startswith("v1:k2:")
    assert rotated.decrypt(new_token, context=CONTEXT) == SSN
    with pytest.raises(DecryptionError, match="'k2'"):
        CIPHER.decrypt(new_token, context=CONTEXT)
    with pytest.raises(DecryptionError, match="'k1'"):
        FieldCipher(KEY_2, "k2").decrypt(old_token, context=CONTEXT)


@pytest.mark.parametrize("key", [b"", b"short", bytes(16), bytes(33)])
def test_keys_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(key)
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(KEY_1, previous_keys={"old": key})
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(key)


@pytest.mark.parametrize("key_id", ["", "k:1"])
def test_key_ids_must_fit_the_format(key_id: str) -> None:
    with pytest.raises(ValueError, match="key id"):
        FieldCipher(KEY_1, key_id)


# --- BlindIndex ------------------------------------------------------------------------------------------


def test_digest_is_a_keyed_hmac_of_the_normalised_value() -> None:
    expected = hmac.new(KEY_1, b"123456789", hashlib.sha256).hexdigest()

    assert BlindIndex(KEY_1).digest(SSN) == expected


@pytest.mark.parametrize("variant", ["123-45-6789", " 123456789 ", "123 45 6789", "123 - 45 - 6789", "\t123456789\n"])
def test_formatting_does_not_defeat_a_match(variant: str) -> None:
    index = BlindIndex(KEY_1)

    assert index.digest(variant) == index.digest("123456789")


def test_letters_match_regardless_of_case() -> None:
    index = BlindIndex(KEY_1)

    assert BlindIndex.normalise(" xyz-12 3 ") == "XYZ123"
    assert index.digest("xyz-12 3") == index.digest("XYZ123")


def test_different_values_and_keys_give_different_digests() -> None:
    assert BlindIndex(KEY_1).digest("123456789") != BlindIndex(KEY_1).digest("123456780")
    assert BlindIndex(KEY_1).digest("123456789") != BlindIndex(KEY_2).digest("123456789")


@pytest.mark.parametrize("value", ["", "  ", " - "])
def test_empty_values_are_not_indexed(value: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        BlindIndex(KEY_1).digest(value)


# --- from settings ---------------------------------------------------------------------------------------


def test_ciphers_from_default_settings_work_together() -> None:
    cipher, index = ciphers_from_settings(ServiceSettings(environment="test"))

    assert cipher.decrypt(cipher.encrypt(SSN, context=CONTEXT), context=CONTEXT) == SSN
    assert len(index.digest(SSN)) == 64


def test_ciphers_use_the_configured_keys() -> None:
    settings = ServiceSettings(
        environment="test",
        field_encryption_key=SecretStr(base64.b64encode(KEY_1).decode()),
        field_hmac_key=SecretStr(base64.b64encode(KEY_2).decode()),
    )

    cipher, index = ciphers_from_settings(settings)

    assert CIPHER.decrypt(cipher.encrypt(SSN, context=CONTEXT), context=CONTEXT) == SSN
    assert index.digest(SSN) == BlindIndex(KEY_2).digest(SSN)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("field_encryption_key", base64.b64encode(b"sixteen byte key").decode(), "RCM_FIELD_ENCRYPTION_KEY"),
        ("field_hmac_key", base64.b64encode(bytes(31)).decode(), "RCM_FIELD_HMAC_KEY"),
        ("field_hmac_key", "not base64 at all!", "RCM_FIELD_HMAC_KEY is not valid base64"),
    ],
)
def test_bad_settings_keys_are_named_not_shown(field: str, value: str, message: str) -> None:
    settings = ServiceSettings(environment="test").model_copy(update={field: SecretStr(value)})

    with pytest.raises(ValueError, match=message) as caught:
        ciphers_from_settings(settings)
    assert value not in str(caught.value)


def test_previous_keys_from_the_environment_decrypt_what_they_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    old_value = CIPHER.encrypt(SSN, context=CONTEXT)
    monkeypatch.setenv("RCM_FIELD_ENCRYPTION_KEY", base64.b64encode(KEY_2).decode())
    monkeypatch.setenv("RCM_FIELD_ENCRYPTION_KEY_ID", "k2")
    monkeypatch.setenv("RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS", f'{{"k1": "{base64.b64encode(KEY_1).decode()}"}}')

    cipher, _ = ciphers_from_settings(ServiceSettings(environment="test"))

    assert cipher.decrypt(old_value, context=CONTEXT) == SSN
    sealed_now = cipher.encrypt(SSN, context=CONTEXT)
    assert sealed_now.startswith("v1:k2:")
    assert FieldCipher(KEY_2, "k2").decrypt(sealed_now, context=CONTEXT) == SSN


def test_a_previous_key_under_the_current_keys_id_is_refused() -> None:
    settings = ServiceSettings(
        environment="test",
        field_previous_encryption_keys={"k1": SecretStr(base64.b64encode(KEY_2).decode())},
    )

    with pytest.raises(ValueError, match="names 'k1', the current key's id"):
        ciphers_from_settings(settings)


def test_a_bad_previous_key_is_named_not_shown() -> None:
    short = base64.b64encode(bytes(16)).decode()
    settings = ServiceSettings(environment="test", field_previous_encryption_keys={"k0": SecretStr(short)})

    with pytest.raises(ValueError, match=r"RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS\['k0'\]") as caught:
        ciphers_from_settings(settings)
    assert short not in str(caught.value)


@pytest.mark.parametrize("shape", ['["{key}"]', '{{"k1": ["{key}"]}}', '{{"k1": "{key}"'])
def test_previous_keys_of_the_wrong_shape_are_refused_without_showing_them(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    key = base64.b64encode(KEY_1).decode()
    monkeypatch.setenv("RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS", shape.format(key=key))

    with pytest.raises(ValueError, match="field_previous_encryption_keys") as caught:
        ServiceSettings(environment="test")
    assert key not in str(caught.value)
    assert key[:12] not in str(caught.value)
