"""The logic behind `edgeward policy ...` and `edgeward audit ...`, run on real files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import tomli_w
from policy_builders import NOW, Clock, policy_data

from edgeward.policies import cli_policy
from edgeward.policies.audit import AuditLog
from edgeward.policies.trust import PolicyStore


def write_toml(path: Path, data: dict[str, object]) -> Path:
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.fixture
def signers(tmp_path: Path) -> list[Path]:
    prefixes = [tmp_path / f"admin{i}" for i in range(3)]
    for prefix in prefixes:
        assert cli_policy.keygen(prefix).code == 0
    return prefixes


@pytest.fixture
def root_file(tmp_path: Path, signers: list[Path]) -> Path:
    publics = [p.with_name(p.name + ".pub").read_text().strip() for p in signers]
    toml = write_toml(tmp_path / "root.toml", {"version": 1, "threshold": 2, "keys": publics})
    out = tmp_path / "root.json"
    keys = [p.with_name(p.name + ".key") for p in signers]
    result = cli_policy.sign(toml, keys, out)
    assert result.code == 0, result.text
    return out


def key(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".key")


def test_keygen_writes_a_private_key_0600_and_never_prints_it(tmp_path: Path) -> None:
    result = cli_policy.keygen(tmp_path / "k")
    private = (tmp_path / "k.key").read_text()
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
    assert "PRIVATE KEY" in private and private.splitlines()[1] not in result.text
    assert cli_policy.keygen(tmp_path / "k").code == 2  # never overwrites


def test_sign_refuses_a_world_readable_key(tmp_path: Path, signers: list[Path]) -> None:
    key(signers[0]).chmod(0o644)
    policy = write_toml(tmp_path / "p.toml", policy_data())
    result = cli_policy.sign(policy, [key(signers[0])], tmp_path / "p.json")
    assert result.code == 2 and "chmod 600" in result.text


def test_sign_cosign_verify(tmp_path: Path, signers: list[Path], root_file: Path) -> None:
    policy = write_toml(tmp_path / "p.toml", policy_data())
    envelope = tmp_path / "p.json"
    assert cli_policy.sign(policy, [key(signers[0])], envelope).code == 0
    below = cli_policy.verify(envelope, root_file, "home-1", NOW)
    assert below.code == 1 and "below_threshold" in below.text
    cosigned = cli_policy.sign(envelope, [key(signers[1])], envelope)
    assert cosigned.code == 0 and "2 signature(s)" in cosigned.text
    ok = cli_policy.verify(envelope, root_file, "home-1", NOW)
    assert ok.code == 0 and ok.text.startswith("OK: policy v2 for home-1")
    assert "wrong_gateway" in cli_policy.verify(envelope, root_file, "office", NOW).text
    # what the CLI writes is what the daemon's store accepts
    store = PolicyStore(tmp_path / "state", root_file, "home-1", Clock())
    accepted = store.load_file(envelope)
    assert accepted.accepted and accepted.version == 2


def test_store_with_a_missing_trust_root_says_which_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.json"):
        PolicyStore(tmp_path, tmp_path / "nowhere.json", "home-1", Clock())


def test_sign_rejects_an_invalid_policy_naming_the_field(
    tmp_path: Path, signers: list[Path]
) -> None:
    policy = write_toml(tmp_path / "p.toml", policy_data(default_effect="perhaps"))
    result = cli_policy.sign(policy, [key(signers[0])], tmp_path / "p.json")
    assert result.code == 2 and "default_effect" in result.text
    assert not (tmp_path / "p.json").exists()


def test_verify_root_rotation(tmp_path: Path, signers: list[Path], root_file: Path) -> None:
    new = tmp_path / "new"
    cli_policy.keygen(new)
    public = new.with_name("new.pub").read_text().strip()
    toml = write_toml(tmp_path / "root2.toml", {"version": 2, "threshold": 1, "keys": [public]})
    rotation = tmp_path / "root2.json"
    cli_policy.sign(toml, [key(new)], rotation)
    assert "unknown_key" in cli_policy.verify(rotation, root_file, None, NOW).text
    cli_policy.sign(rotation, [key(signers[0]), key(signers[2])], rotation)
    assert cli_policy.verify(rotation, root_file, None, NOW).text.startswith("OK: root v2")


def test_show_policy_and_envelope(tmp_path: Path, signers: list[Path]) -> None:
    policy = write_toml(tmp_path / "p.toml", policy_data())
    text = cli_policy.show(policy).text
    assert "policy v2" in text and "confirm locks: domain=lock" in text
    assert "email: local_only" in text
    envelope = tmp_path / "p.json"
    cli_policy.sign(policy, [key(signers[0])], envelope)
    shown = cli_policy.show(envelope)
    assert shown.code == 0 and "NOT verified" in shown.text and "policy v2" in shown.text


def test_diff(tmp_path: Path) -> None:
    old = write_toml(tmp_path / "old.toml", policy_data())
    data = policy_data(version=3)
    data["rules"] = [
        data["rules"][1],
        data["rules"][0],
        {"id": "vacuum", "domain": "vacuum", "effect": "allow"},
    ]
    data["residency"] = {"free_text": "allow", "email": "local_only"}
    new = write_toml(tmp_path / "new.toml", data)
    result = cli_policy.diff(old, new)
    assert result.code == 1
    assert "~ version: 2 -> 3" in result.text
    assert "+ rule vacuum" in result.text and "- rule locks" in result.text
    assert "~ residency free_text:" in result.text
    assert cli_policy.diff(old, old).code == 0


def test_missing_files_are_input_errors(tmp_path: Path) -> None:
    result = cli_policy.show(tmp_path / "none.toml")
    assert result.code == 2 and "none.toml" in result.text


def test_audit_verify_and_tail(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append({"effect": "deny", "tool": "lock.unlock", "rule_id": "lock-unlock"})
    log.append({"effect": "allow", "tool": "light.turn_on"})
    log.close()
    assert cli_policy.audit_verify(path).code == 0
    tail = cli_policy.audit_tail(path, 1).text
    assert "effect=allow tool=light.turn_on" in tail and "lock.unlock" not in tail
    path.write_bytes(path.read_bytes().replace(b'"deny"', b'"allow"'))
    broken = cli_policy.audit_verify(path)
    assert broken.code == 1 and "line 1" in broken.text
