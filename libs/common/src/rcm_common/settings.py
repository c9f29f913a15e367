"""Settings shared by every service, read from the environment (and a `.env` file where present).

Development runs on embedded defaults; any other environment refuses to start while a default secret
is still in place, the way a billing manager would expect money and PHI to be guarded.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import ClassVar, Final, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rcm_common.failpoints import FAILPOINT_NAMES

Environment = Literal["development", "test", "production"]
Facility = Literal["database", "broker", "tokens", "field_keys"]
ALL_FACILITIES: Final[frozenset[Facility]] = frozenset({"database", "broker", "tokens", "field_keys"})

# Consumer-group timings that make the embedded broker admit a consumer in about a second (it holds each
# join for the whole rebalance timeout); the local stack and the tests use them, production keeps Kafka's.
EMBEDDED_BROKER_GROUP_TIMINGS: Final = {
    "session_timeout_ms": 1000,
    "heartbeat_interval_ms": 100,
    "rebalance_timeout_ms": 1000,
}

# Well-known development keys: usable on a laptop, refused anywhere else.
DEV_FIELD_ENCRYPTION_KEY = base64.b64encode(b"rcm-development-field-key-000000").decode()
DEV_FIELD_HMAC_KEY = base64.b64encode(b"rcm-development-blind-index-key!").decode()


class ServiceSettings(BaseSettings):
    """The settings every service has; a service subclasses it to add its own and set `service_name`."""

    # A setting refused is named, its value never shown: it may be a key.
    model_config = SettingsConfigDict(env_prefix="RCM_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    uses: ClassVar[frozenset[Facility]] = ALL_FACILITIES
    """What the service runs on; outside development only their settings must be real. A stand-in with
    no database, broker, tokens or PHI (the clearinghouse simulator) names fewer."""

    service_name: str = "rcm"
    environment: Environment = "development"
    state_dir: Path = Path(".rcm")
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "RCM_DATABASE_URL"),
        description="SQLAlchemy async URL; empty means a SQLite file in the state directory.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply the service's migrations at start; production may run them as a Job."
    )
    migrations_dir: Path | None = Field(
        default=None, description="Where the service's Alembic scripts are; the source tree's by default."
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "RCM_KAFKA_BOOTSTRAP_SERVERS"),
    )
    kafka_idempotent_producer: bool = Field(
        default=False, description="On in production; the embedded broker has no idempotent producer."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL"] = Field(
        default="PLAINTEXT",
        description="SSL: TLS to the brokers, checked against the cluster's CA, with the service's client "
        "certificate where one is given (a Strimzi KafkaUser with TLS authentication, whose ACLs name it).",
    )
    kafka_ssl_cafile: Path | None = Field(default=None, description="The brokers' CA certificate (PEM file).")
    kafka_ssl_certfile: Path | None = Field(default=None, description="The service's client certificate (PEM).")
    kafka_ssl_keyfile: Path | None = Field(default=None, description="The client certificate's key (PEM).")
    consumer_max_retries: int = 3
    consumer_retry_base_seconds: float = 0.2
    consumer_batch_size: int = 500
    # Consumer-group timings: Kafka's defaults suit production; the embedded broker holds every group join
    # for the whole rebalance timeout, so the local stack and the tests set these low.
    consumer_session_timeout_ms: int = 10_000
    consumer_heartbeat_interval_ms: int = 3_000
    consumer_rebalance_timeout_ms: int | None = None
    relay_batch_size: int = 500
    relay_idle_seconds: float = 0.2
    outbox_retention_hours: float = Field(default=168, description="How long published outbox rows are kept.")
    idempotency_retention_hours: float = Field(default=24, description="How long an Idempotency-Key is honoured.")
    housekeeping_interval_seconds: float = 600
    failpoints: dict[str, float] = Field(
        default_factory=dict,
        description="Crash points of the reliability suite by name, with the probability each fires (JSON); "
        "refused in production (rcm_common.failpoints).",
    )

    jwt_audience: str = "rcm"
    jwt_issuer: str = "rcm-local"
    jwt_public_key: SecretStr | None = Field(
        default=None,
        description="PEM of the token signing public key, or of several (the old and the new while the identity "
        "provider's key is rotated); development reads the local key file.",
    )
    field_encryption_key: SecretStr = SecretStr(DEV_FIELD_ENCRYPTION_KEY)
    field_encryption_key_id: str = Field(
        default="k1", description="The id every value sealed with RCM_FIELD_ENCRYPTION_KEY carries."
    )
    field_previous_encryption_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Older field keys by id (JSON, base64 values): values they sealed still decrypt while "
        "`python -m rcm_<service> reencrypt` moves them to the current key.",
    )
    field_hmac_key: SecretStr = SecretStr(DEV_FIELD_HMAC_KEY)

    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "RCM_OTEL_EXPORTER_OTLP_ENDPOINT"),
    )

    @model_validator(mode="after")
    def _refuse_half_a_tls_setting(self) -> ServiceSettings:
        if self.kafka_security_protocol == "SSL" and self.kafka_ssl_cafile is None:
            raise ValueError("RCM_KAFKA_SECURITY_PROTOCOL=SSL needs RCM_KAFKA_SSL_CAFILE, the brokers' CA")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("RCM_KAFKA_SSL_CERTFILE and RCM_KAFKA_SSL_KEYFILE go together")
        if self.kafka_security_protocol == "PLAINTEXT" and self.kafka_ssl_certfile is not None:
            raise ValueError("a Kafka client certificate is given but RCM_KAFKA_SECURITY_PROTOCOL is not SSL")
        return self

    @model_validator(mode="after")
    def _refuse_failpoints_in_production_or_unknown(self) -> ServiceSettings:
        if self.failpoints and self.environment == "production":
            raise ValueError("RCM_FAILPOINTS crashes the service on purpose: production refuses it")
        unknown = sorted(set(self.failpoints) - FAILPOINT_NAMES)
        if unknown:
            raise ValueError(
                f"RCM_FAILPOINTS names no failpoint {', '.join(unknown)}; known: {sorted(FAILPOINT_NAMES)}"
            )
        if any(not 0 <= probability <= 1 for probability in self.failpoints.values()):
            raise ValueError("RCM_FAILPOINTS gives each failpoint a probability from 0 to 1")
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> ServiceSettings:
        if self.environment == "development" or self.environment == "test":
            return self
        problems = []
        if "field_keys" in self.uses and self.field_encryption_key.get_secret_value() == DEV_FIELD_ENCRYPTION_KEY:
            problems.append("RCM_FIELD_ENCRYPTION_KEY")
        if "field_keys" in self.uses and self.field_hmac_key.get_secret_value() == DEV_FIELD_HMAC_KEY:
            problems.append("RCM_FIELD_HMAC_KEY")
        if "tokens" in self.uses and self.jwt_public_key is None:
            problems.append("RCM_JWT_PUBLIC_KEY")
        if "database" in self.uses and not self.database_url:
            problems.append("DATABASE_URL")
        if "broker" in self.uses and not self.kafka_idempotent_producer:
            problems.append("RCM_KAFKA_IDEMPOTENT_PRODUCER=true")
        if problems:
            raise ValueError(
                f"environment {self.environment!r} refuses development defaults; set: {', '.join(problems)}"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or a SQLite file of this service's own in the state directory. A plain
        `postgresql://` or `postgres://` URL (as CloudNativePG's application secret gives it) runs on asyncpg."""
        if self.database_url:
            for plain in ("postgresql://", "postgres://"):
                if self.database_url.startswith(plain):
                    return "postgresql+asyncpg://" + self.database_url.removeprefix(plain)
            return self.database_url
        return f"sqlite+aiosqlite:///{self.state_dir / (self.service_name + '.db')}"

    @property
    def dev_jwt_private_key_path(self) -> Path:
        return self.state_dir / "jwt-dev-private.pem"

    @property
    def dev_jwt_public_key_path(self) -> Path:
        return self.state_dir / "jwt-dev-public.pem"
