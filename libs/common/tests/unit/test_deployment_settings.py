"""Settings a deployment gives a service: TLS to Kafka with the service's client certificate (a Strimzi
KafkaUser's), refused when half given; and the database URL as CloudNativePG's secret writes it."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from rcm_common.messaging import broker_security
from rcm_common.settings import ServiceSettings


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate and its key, as PEM files: a cluster CA or a KafkaUser's certificate, for the test."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


def settings(**fields: object) -> ServiceSettings:
    return ServiceSettings.model_validate({"service_name": "claim", "environment": "test", **fields})


def test_plaintext_is_the_default_and_has_no_security() -> None:
    assert broker_security(settings()) is None


def test_tls_checks_the_brokers_against_the_ca_and_presents_the_services_certificate(tmp_path: Path) -> None:
    ca, _ = self_signed(tmp_path, "cluster-ca")
    certificate, key = self_signed(tmp_path, "claim")

    security = broker_security(
        settings(
            kafka_security_protocol="SSL",
            kafka_ssl_cafile=ca,
            kafka_ssl_certfile=certificate,
            kafka_ssl_keyfile=key,
        )
    )

    assert security is not None
    assert security.use_ssl
    context = security.ssl_context
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [entry["subject"] for entry in context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"kafka_security_protocol": "SSL"}, "needs RCM_KAFKA_SSL_CAFILE"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "ca.crt", "kafka_ssl_certfile": "c"}, "go together"),
        ({"kafka_ssl_certfile": "claim.crt", "kafka_ssl_keyfile": "claim.key"}, "is not SSL"),
        ({"kafka_security_protocol": "SASL_SSL"}, "kafka_security_protocol"),
    ],
    ids=["no CA", "a certificate without its key", "a certificate over plaintext", "an unknown protocol"],
)
def test_half_a_tls_setting_is_refused(fields: dict[str, object], refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal):
        settings(**fields)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://app:s3cr%40t@claim-db-rw:5432/app", "postgresql+asyncpg://app:s3cr%40t@claim-db-rw:5432/app"),
        ("postgres://app:pw@db/app", "postgresql+asyncpg://app:pw@db/app"),
        ("postgresql+asyncpg://app:pw@db/app", "postgresql+asyncpg://app:pw@db/app"),
        ("sqlite+aiosqlite:////data/claim.db", "sqlite+aiosqlite:////data/claim.db"),
    ],
)
def test_a_plain_postgresql_url_runs_on_asyncpg(given: str, used: str) -> None:
    assert settings(database_url=given).resolved_database_url == used
