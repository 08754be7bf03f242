"""Settings: one TOML file, overridden by ``EDGEWARD_<KEY>`` and ``EDGEWARD_<SECTION>__<KEY>``.

Every field has a description (``edgeward doctor`` and the example config show them). Unknown keys
and bad values stop start-up with :class:`SettingsError`, whose message names the key and the value.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = Path("/etc/edgeward/edgeward.toml")
CONFIG_ENV = "EDGEWARD_CONFIG"
_TOPIC_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SettingsError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def _default_gateway_id() -> str:
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname().split(".")[0]) or "edgeward"
    return host[:64]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSettings(_Section):
    host: str = Field("127.0.0.1", description="MQTT broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="MQTT broker port (8883 for TLS)")
    username: str | None = Field(None, description="user name for the broker, if it needs one")
    password: SecretStr | None = Field(
        None,
        description="broker password; better: a systemd credential named mqtt_password",
    )
    client_id: str | None = Field(
        None, description="MQTT client id; stable across restarts (default edgeward-<gateway_id>)"
    )
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive in seconds")
    session_expiry_s: int = Field(
        7 * 24 * 3600,
        ge=0,
        description="how long the broker keeps our session and queued QoS 1 messages while down",
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="first reconnect delay in seconds")
    reconnect_max_s: float = Field(30.0, gt=0, description="cap of the reconnect backoff")
    tls_ca: Path | None = Field(None, description="CA bundle to verify the broker (enables TLS)")
    tls_cert: Path | None = Field(None, description="client certificate for mutual TLS")
    tls_key: Path | None = Field(None, description="private key of the client certificate")
    max_inflight: int = Field(1000, ge=1, description="QoS 1 messages in flight at once")


class DeviceSettings(_Section):
    discovery_prefix: str = Field("homeassistant", description="Home Assistant discovery prefix")
    zigbee2mqtt_base: str = Field("zigbee2mqtt", description="Zigbee2MQTT base topic")


class ModelSettings(_Section):
    path: Path | None = Field(
        None, description="bring-your-own model folder; empty uses the embedded planner model"
    )
    backend: Literal["auto", "onnx", "openvino"] = Field("auto", description="model runtime")
    device: str = Field("CPU", description="OpenVINO device: CPU, GPU or NPU")
    threads: int | None = Field(
        None, ge=1, le=256, description="inference threads (default: all; 1 for the embedded model)"
    )
    min_confidence: float = Field(
        0.9,
        ge=0,
        le=1,
        description="plans less certain than this (0 to 1) never act: escalated if the policy "
        "allows, else refused",
    )
    backup_path: Path | None = Field(
        None,
        description="bring-your-own model folder asked only when the first planner is unsure, "
        "answers unsupported or is missing (before the upstream); same backend, device, threads",
    )
    backup_min_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="the backup model's plans less certain than this go on to the upstream "
        "(default: min_confidence; a general chat model's confidence runs on another scale)",
    )

    @model_validator(mode="after")
    def _backup_is_another_model(self) -> ModelSettings:
        if self.backup_path is not None and self.backup_path == self.path:
            raise ValueError(
                f"backup_path {str(self.backup_path)!r} is the model of path: a backup must be "
                "another model (or leave backup_path empty)"
            )
        return self

    @property
    def backup_threshold(self) -> float:
        """The confidence a backup model's plan needs to act."""
        if self.backup_min_confidence is None:
            return self.min_confidence
        return self.backup_min_confidence


class PolicySettings(_Section):
    path: Path | None = Field(None, description="signed policy envelope to load at start-up")
    trust_root: Path | None = Field(
        None, description="trust root (policy signing keys and threshold); without it no policy"
    )


class UpstreamSettings(_Section):
    api_key_env: str = Field(
        "EDGEWARD_UPSTREAM_API_KEY",
        description="environment variable holding the upstream API key, if no systemd credential",
    )
    model: str = Field("gpt-4o-mini", description="model name sent to the upstream")
    timeout_s: float = Field(20.0, gt=0, description="upstream request timeout")
    max_retries: int = Field(2, ge=0, le=10, description="retries on timeouts, 429 and 5xx")
    ca_bundle: Path | None = Field(None, description="CA bundle for the upstream's TLS")
    known_names: list[str] = Field(
        default_factory=list,
        description="names of household members and contacts, always redacted before egress",
    )
    outbox_max_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="outbox size cap")
    outbox_max_age_s: int = Field(24 * 3600, ge=60, description="outbox entries expire after")


class LocalSettings(_Section):
    deny_tools: list[str] = Field(
        default_factory=list, description="tools never allowed locally (globs: lock.*)"
    )
    deny_entities: list[str] = Field(
        default_factory=list, description="entities never actuated (globs: lock.front_*)"
    )


class MetricsSettings(_Section):
    enabled: bool = Field(False, description="serve Prometheus metrics")
    host: str = Field("127.0.0.1", description="address the metrics endpoint listens on")
    port: int = Field(9464, ge=1, le=65535, description="port of the metrics endpoint")


class StoreSettings(_Section):
    max_requests: int = Field(
        10000, ge=100, description="handled request ids (and replies) kept for de-duplication"
    )
    max_audit_records: int = Field(100000, ge=100, description="actuation audit records kept")


class AreaSettings(_Section):
    name: str = Field(description="area name as people say it")
    floor: str | None = Field(None, description="floor the area is on")
    aliases: list[str] = Field(default_factory=list, description="other names for the area")


class EntitySettings(_Section):
    entity_id: str = Field(description="entity to describe, e.g. light.kitchen_ceiling")
    name: str | None = Field(None, description="name to use instead of the announced one")
    aliases: list[str] = Field(default_factory=list, description="other names for the entity")
    area: str | None = Field(None, description="area the entity is in")


class Settings(BaseSettings):
    """All of edgeward's settings."""

    model_config = SettingsConfigDict(
        env_prefix="EDGEWARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    gateway_id: str = Field(
        default_factory=_default_gateway_id, description="gateway id in topics (default host name)"
    )
    state_dir: Path = Field(Path("/var/lib/edgeward"), description="where state is kept")
    timezone: str | None = Field(None, description="IANA time zone for schedules (default: local)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json under systemd, text on a terminal"
    )
    max_payload_bytes: int = Field(
        64 * 1024, ge=256, le=16 * 1024 * 1024, description="larger requests are rejected"
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="MQTT broker")
    devices: DeviceSettings = Field(default_factory=DeviceSettings, description="device discovery")
    model: ModelSettings = Field(default_factory=ModelSettings, description="local model")
    policy: PolicySettings = Field(default_factory=PolicySettings, description="signed policy")
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings, description="upstream LLM")
    local: LocalSettings = Field(default_factory=LocalSettings, description="local actuation rules")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Prometheus")
    store: StoreSettings = Field(default_factory=StoreSettings, description="state store bounds")
    areas: list[AreaSettings] = Field(default_factory=list, description="areas and floors")
    entities: list[EntitySettings] = Field(
        default_factory=list, description="names, aliases and areas of entities"
    )

    @field_validator("gateway_id")
    @classmethod
    def _topic_safe(cls, value: str) -> str:
        if not _TOPIC_SAFE.match(value):
            raise ValueError("use 1-64 letters, digits, '_', '.' or '-' (it is part of topics)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file; the file arrives as init values (see load_settings).
        return (env_settings, init_settings)

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or f"edgeward-{self.gateway_id}"

    def mqtt_password(self) -> str | None:
        """The broker password: the setting, else the systemd credential ``mqtt_password``."""
        if self.mqtt.password is not None:
            return self.mqtt.password.get_secret_value()
        return read_credential("mqtt_password")


def read_credential(name: str) -> str | None:
    """A secret passed by systemd's ``LoadCredential=``, or None when there is none."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / name
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"credential {name} cannot be read: {exc.strerror}") from exc


def config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: ``--config``, else ``$EDGEWARD_CONFIG``, else the default if any."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any), apply the environment, validate; raise SettingsError."""
    file = config_path(path)
    values: dict[str, Any] = {}
    if file is not None:
        try:
            values = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"config file {file} does not exist") from None
        except PermissionError:
            raise SettingsError(f"config file {file} is not readable by this user") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {file} is not valid TOML: {exc}") from None
    values.update(overrides)
    _check_environment()
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, file)) from None


def _env_name(key: str) -> str:
    return "EDGEWARD_" + key.upper().replace(".", "__", 1)


def _check_environment() -> None:
    """pydantic-settings ignores unknown ``EDGEWARD_*`` variables; a typo there must not pass."""
    exempt = {CONFIG_ENV, "EDGEWARD_UPSTREAM_API_KEY"}
    for name in os.environ:
        if not name.startswith("EDGEWARD_") or name in exempt:
            continue
        section, _, key = name[len("EDGEWARD_") :].lower().partition("__")
        field = Settings.model_fields.get(section)
        sub = field.annotation if field is not None else None
        known = field is not None and (
            not key
            or (isinstance(sub, type) and issubclass(sub, BaseModel) and key in sub.model_fields)
        )
        if not known:
            raise SettingsError(f"unknown setting in environment variable {name}")


def _explain(exc: ValidationError, file: Path | None) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        env = _env_name(key)
        where = f" from {env}" if env in os.environ else (f" in {file}" if file else "")
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting {key!r}{where}")
            continue
        value = err.get("input")
        shown = "<hidden>" if "password" in key else repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        lines.append(f"setting {key!r}{where} has a bad value {shown}: {err['msg']}")
    return "; ".join(lines)
