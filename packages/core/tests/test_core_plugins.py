"""Plugin discovery: entry points, blocking, broken plugins, unknown hooks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codekiln_core.plugins import DISABLE_ENV, disabled_plugin_names, get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.testing import InstallPlugin
from codekiln_core.versions import MEMBERS, installed_versions

GOOD = """
from codekiln_core.hookspecs import hookimpl

class Shout:
    name = "shout"
    def filter(self, doc):
        return doc["content"].isupper(), "not_shouting"

@hookimpl
def codekiln_register_stages(register):
    register("shout", Shout, description="keep upper-case files")
"""


CLASH = """
from codekiln_core.hookspecs import hookimpl

class Local:
    pass

class Quiet:
    name = "quiet"
    def filter(self, doc):
        return True

@hookimpl
def codekiln_register_sandboxes(register):
    register("local", Local, description="takes a name core already registered")

@hookimpl
def codekiln_register_stages(register):
    register("quiet", Quiet, description="keeps everything")
"""


def test_a_taken_name_fails_only_what_needs_it_and_plugins_list_shows_it(
    install_plugin: InstallPlugin, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    from codekiln_core.cli.app import main
    from codekiln_core.errors import DuplicateNameError

    install_plugin("codekiln-clash", "codekiln_clash_plugin", CLASH, ep_name="clash")
    registry = Registry(get_plugin_manager(warn=False))
    assert registry.get("stage", "quiet").plugin == "clash"  # its other names still work
    with pytest.raises(DuplicateNameError, match="'local' is registered by both plugin 'core' "
                       "and plugin 'clash'"):
        registry.get("sandbox", "local")
    assert "local" not in registry.all("sandbox")
    assert main(["plugins", "list"]) == 0
    out = capsys.readouterr().out
    conflict = [line for line in out.splitlines() if line.startswith("conflict")]
    assert len(conflict) == 1 and "'core'" in conflict[0] and "'clash'" in conflict[0]
    monkeypatch.setenv(DISABLE_ENV, "clash")
    assert main(["plugins", "list", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == []
    blocked = [p for p in report["plugins"] if p["status"] == "blocked"]
    assert [(p["name"], p["distribution"]) for p in blocked] == [("clash", "codekiln-clash")]


def test_a_second_plugin_of_a_taken_name_is_reported_and_the_first_kept(
    install_plugin: InstallPlugin,
):
    install_plugin("codekiln-shout", "codekiln_shout_plugin", GOOD, ep_name="shout")
    install_plugin("codekiln-shout-too", "codekiln_shout_too", GOOD, ep_name="shout")
    pm = get_plugin_manager(warn=False)
    assert pm.infos["shout"].distribution == "codekiln-shout"
    (failure,) = pm.failures
    assert failure.distribution == "codekiln-shout-too" and "already taken" in failure.error
    assert Registry(pm).get("stage", "shout").plugin == "shout"


def test_builtin_and_installed_members_load(plugin_manager):
    names = {name for name, _ in plugin_manager.list_name_plugin()}
    installed = {d.removeprefix("codekiln-") for d in installed_versions() if d in MEMBERS}
    assert "core" in names and installed - {"core"} <= names
    assert plugin_manager.failures == []


def test_entry_point_plugin_is_discovered_with_its_distribution(install_plugin: InstallPlugin):
    install_plugin("codekiln-shout", "codekiln_shout_plugin", GOOD, ep_name="shout")
    pm = get_plugin_manager(warn=False)
    assert pm.infos["shout"].distribution == "codekiln-shout"
    assert pm.infos["shout"].version == "1.0.0"
    reg = Registry(pm).get("stage", "shout")
    assert reg.plugin == "shout" and reg.description == "keep upper-case files"


@pytest.mark.parametrize("blocked", ["shout", "codekiln-shout"])
def test_disable_env_blocks_by_entry_point_or_distribution(
    install_plugin: InstallPlugin, monkeypatch: pytest.MonkeyPatch, blocked: str
):
    install_plugin("codekiln-shout", "codekiln_shout_plugin", GOOD, ep_name="shout")
    monkeypatch.setenv(DISABLE_ENV, f"other, {blocked}")
    pm = get_plugin_manager(warn=False)
    assert "shout" not in Registry(pm).all("stage")
    assert pm.is_blocked("shout")


def test_disabled_names_parse_commas_and_semicolons():
    assert disabled_plugin_names({DISABLE_ENV: " a, b;c ,, "}) == {"a", "b", "c"}


def test_broken_plugin_warns_in_one_line_and_others_still_load(
    install_plugin: InstallPlugin, capsys: pytest.CaptureFixture[str]
):
    install_plugin("codekiln-broken", "codekiln_broken_plugin", "import not_a_real_module_xyz\n",
                   ep_name="broken")
    pm = get_plugin_manager()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "'broken'" in err[0] and "codekiln-broken" in err[0]
    assert "No module named 'not_a_real_module_xyz'" in err[0]
    assert f"{DISABLE_ENV}=broken" in err[0]
    assert pm.has_plugin("core") and not pm.has_plugin("broken")


def test_broken_plugin_leaves_unrelated_commands_working(install_plugin: InstallPlugin):
    install_plugin("codekiln-broken", "codekiln_broken_plugin", "raise RuntimeError('boom')\n",
                   ep_name="broken")
    done = subprocess.run(
        [sys.executable, "-m", "codekiln_core", "plugins", "list", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"broken"' in done.stdout  # listed under "failed"
    assert "RuntimeError: boom" in done.stdout


def test_plugin_with_unknown_hook_is_dropped_and_reported(install_plugin: InstallPlugin):
    source = (
        "from codekiln_core.hookspecs import hookimpl\n"
        "@hookimpl\ndef codekiln_register_widgets(register):\n    pass\n"
    )
    install_plugin("codekiln-odd", "codekiln_odd_plugin", source, ep_name="odd")
    pm = get_plugin_manager(warn=False)
    assert not pm.has_plugin("odd")
    assert [f.name for f in pm.failures] == ["odd"]
    assert "codekiln_register_widgets" in pm.failures[0].error
