"""Which codekiln packages and plugins are installed, at which versions."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, entry_points, version

MEMBERS = (
    "codekiln-core",
    "codekiln-curate",
    "codekiln-train",
    "codekiln-posttrain",
    "codekiln-serve",
    "codekiln-eval",
)


def installed_versions() -> dict[str, str]:
    """Installed codekiln members plus every distribution that ships a codekiln plugin."""
    found: dict[str, str] = {}
    for dist in MEMBERS:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    for ep in entry_points(group="codekiln"):
        if ep.dist is not None:
            found.setdefault(ep.dist.name, ep.dist.version)
    return dict(sorted(found.items()))
