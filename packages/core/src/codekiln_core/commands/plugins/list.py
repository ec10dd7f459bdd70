"""``codekiln plugins list``: what is installed, what it hooks, what it registered."""

from __future__ import annotations

import json
from typing import Any

import typer

from codekiln_core.cli.contract import CliCommand
from codekiln_core.errors import DuplicateNameError
from codekiln_core.plugins import PluginManager, get_plugin_manager
from codekiln_core.registry import Registry


def describe_plugins(pm: PluginManager) -> dict[str, Any]:
    """Plugins (loaded and blocked) with distribution, version, implemented hooks and
    registered names; plugins that failed to load; contested and invalid registrations."""
    registry = Registry(pm)
    registered = registry.by_plugin()
    plugins = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        info = pm.infos.get(name)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        plugins.append(
            {
                "name": name,
                "status": "loaded",
                "distribution": info.distribution if info else "?",
                "version": info.version if info else "?",
                "hooks": hooks,
                "registered": [
                    {"kind": r.kind, "name": r.name, "description": r.description}
                    for r in registered.get(name, [])
                ],
            }
        )
    for name, info in sorted(pm.blocked.items()):
        plugins.append({"name": name, "status": "blocked", "distribution": info.distribution,
                        "version": info.version, "hooks": [], "registered": []})
    failed = [{"name": f.name, "distribution": f.distribution, "error": f.error}
              for f in pm.failures]
    problems = [{"kind": "conflict" if isinstance(p, DuplicateNameError) else "invalid",
                 "message": str(p)} for p in registry.problems()]
    return {"plugins": plugins, "failed": failed, "problems": problems}


def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List plugins: distribution, version, hooks and the names each registered."""
    report = describe_plugins(get_plugin_manager(warn=False))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="codekiln plugins")
    for column in ("plugin", "distribution", "version", "hooks", "registered"):
        table.add_column(column, overflow="fold")
    for p in report["plugins"]:
        hooks = ", ".join(h.removeprefix("codekiln_") for h in p["hooks"])
        names = ", ".join(f"{r['kind']}:{r['name']}" for r in p["registered"])
        label = p["name"] if p["status"] == "loaded" else f"{p['name']} ({p['status']})"
        table.add_row(label, p["distribution"], p["version"], hooks or "-", names or "-")
    console = Console()
    console.print(table)
    for f in report["failed"]:
        console.print(f"[red]failed[/red] {f['name']} ({f['distribution']}): {f['error']}")
    for problem in report["problems"]:
        console.print(f"[yellow]{problem['kind']}[/yellow] ", end="")
        console.print(problem["message"], markup=False, highlight=False, soft_wrap=True)


COMMAND = CliCommand("plugins.list", list_plugins)
