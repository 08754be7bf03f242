"""Settings: TOML plus environment, unknown keys and bad values named in the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeward.daemon.settings import Settings, SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edgeward.toml"
    path.write_text(text)
    return path


def test_toml_values_and_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'gateway_id = "home-1"\n[mqtt]\nport = 1884\nusername = "gw"\n'
        '[[areas]]\nname = "Kitchen"\nfloor = "ground"\naliases = ["cuisine"]\n'
        '[[entities]]\nentity_id = "light.k"\naliases = ["big light"]\narea = "Kitchen"\n',
    )
    settings = load_settings(path)
    assert settings.gateway_id == "home-1"
    assert settings.mqtt.port == 1884
    assert settings.client_id == "edgeward-home-1"
    assert settings.areas[0].aliases == ["cuisine"]
    assert settings.entities[0].area == "Kitchen"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[mqtt]\nport = 1884\nhost = "broker"\n')
    monkeypatch.setenv("EDGEWARD_MQTT__PORT", "2883")
    monkeypatch.setenv("EDGEWARD_STATE_DIR", str(tmp_path / "state"))
    settings = load_settings(path)
    assert settings.mqtt.port == 2883
    assert settings.mqtt.host == "broker"
    assert settings.state_dir == tmp_path / "state"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus = 1\n", "unknown setting 'bogus'"),
        ("[mqtt]\nprot = 1\n", "unknown setting 'mqtt.prot'"),
        ('[mqtt]\nport = "high"\n', "setting 'mqtt.port'"),
        ("[mqtt]\nport = 70000\n", "70000"),
        ('gateway_id = "a/b"\n', "setting 'gateway_id'"),
        ('[model]\nbackend = "tpu"\n', "setting 'model.backend'"),
        ("[[areas]]\nfloor = 1\n", "areas.0.name"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected.replace(".", r"\.").replace("'", "'")):
        load_settings(write(tmp_path, text))


def test_password_never_shown_in_errors(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, "[mqtt]\npassword = 12345678\nport = -1\n"))
    assert "12345678" not in str(caught.value)


def test_unknown_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEWARD_MQTT__HOSTNAME", "x")
    with pytest.raises(SettingsError, match="EDGEWARD_MQTT__HOSTNAME"):
        load_settings(None)


def test_bad_value_from_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEWARD_MQTT__PORT", "x")
    with pytest.raises(SettingsError, match="EDGEWARD_MQTT__PORT"):
        load_settings(None)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[mqtt\n"))
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_credential_for_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mqtt_password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert load_settings(None).mqtt_password() == "s3cret"


def test_every_field_has_a_description() -> None:
    def walk(model: type) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            if not field.description:
                missing.append(f"{model.__name__}.{name}")
            annotation = field.annotation
            inner = getattr(annotation, "__args__", (annotation,))
            for kind in inner:
                if isinstance(kind, type) and hasattr(kind, "model_fields"):
                    missing += walk(kind)
        return missing

    assert walk(Settings) == []
