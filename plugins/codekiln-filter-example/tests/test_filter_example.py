"""The example plugin: discovered through its entry point, absent when blocked, and useful."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from codekiln_core.errors import ConfigError
from codekiln_core.plugins import DISABLE_ENV, get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.stages import Filter, build_stage, normalize_filter_result
from codekiln_filter_example import NoSecretsFilter, NoSecretsOptions

# Test credentials are assembled at run time so this file itself holds no scannable secret.
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2" * 9
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + ("MIIEowIBAAKCAQEA" * 6 + "\n") * 3


def test_registered_through_its_entry_point() -> None:
    reg = Registry(get_plugin_manager(warn=False)).get("stage", "no-secrets")
    assert reg.obj is NoSecretsFilter
    assert reg.plugin == "filter-example"
    assert "credentials" in reg.description


def test_absent_when_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "filter-example")
    assert "no-secrets" not in Registry(get_plugin_manager(warn=False)).all("stage")


def test_implements_the_core_filter_protocol() -> None:
    assert isinstance(NoSecretsFilter(), Filter)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (f'AWS_KEY = "{AWS}"\n', "secret:aws_access_key"),
        (f"token = '{GITHUB}'\n", "secret:github_token"),
        (f'KEY = """{PEM}"""\n', "secret:private_key"),
    ],
)
def test_drops_files_with_credentials(content: str, reason: str) -> None:
    keep, why = normalize_filter_result(NoSecretsFilter().filter({"content": content}), "x")
    assert (keep, why) == (False, reason)


def test_kinds_can_be_restricted_and_are_validated() -> None:
    only_aws = NoSecretsFilter(NoSecretsOptions(kinds=["aws_access_key"]))
    assert only_aws.filter({"content": f"t = '{GITHUB}'"}) is True
    built = build_stage(NoSecretsFilter, {"kinds": ["github_token"]}, source="r.yaml",
                        key="stages[0].options")
    assert built.filter({"content": f"t = '{GITHUB}'"}) == (False, "secret:github_token")
    with pytest.raises(ConfigError, match=r"^r.yaml: key 'stages\[0\].options.kinds.0' = "
                       r"'passwords': Input should be 'private_key', "):
        build_stage(NoSecretsFilter, {"kinds": ["passwords"]}, source="r.yaml",
                    key="stages[0].options")


def test_keeps_ordinary_standard_library_code() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    packages = ("json", "email", "http", "asyncio")
    files = sorted(p for d in packages for p in (stdlib / d).glob("*.py"))
    assert len(files) > 50
    flt = NoSecretsFilter()
    dropped = [p.name for p in files if flt.filter({"content": p.read_text("utf-8")}) is not True]
    assert dropped == []


def test_the_options_model_allows_exactly_the_known_kinds() -> None:
    from typing import get_args

    from codekiln_filter_example.filters import PATTERNS, SecretKind

    assert set(get_args(SecretKind)) == set(PATTERNS)
