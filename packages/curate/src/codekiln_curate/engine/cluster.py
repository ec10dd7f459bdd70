"""Which Ray nodes a curation run lost, for its log and summary.

Ray reruns the shard tasks of a node that dies (see ``RayExecutor``), so a lost node does
not fail the run; it must still be reported: a user should know their cluster shrank and
why the run took longer. The watch notes which nodes were already dead when the run began
and, before and after each pass and with each result, names the ones that died since.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LostNode:
    """A node that died while the run was going."""

    node_id: str
    address: str
    resources: dict[str, float]  # as last seen alive ({} when it joined and died unseen)
    reason: str  # Ray's death reason
    pass_index: int  # the pass whose check found it dead (0-based)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def message(self) -> str:
        shown = ", ".join(f"{k} {v:g}" for k, v in sorted(self.resources.items())
                          if not k.startswith(("node:", "memory", "object_store_memory")))
        return (f"curate: lost Ray node {self.node_id[:12]} at {self.address}"
                f"{f' ({shown})' if shown else ''} during pass {self.pass_index + 1}: "
                f"{self.reason or 'no reason given'}; its shard tasks ran again on the other "
                "nodes")


class NodeWatch:
    """Nodes dead when the run began are history; any other dead node was lost by the run
    (reported once, on stderr and in :attr:`lost`), even one that joined and died unseen."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, float]] = {}
        self.lost: list[LostNode] = []
        self.dead_before = {str(n["NodeID"]) for n in self._nodes() if not n.get("Alive")}

    @staticmethod
    def _nodes() -> list[dict[str, Any]]:
        import ray

        return list(ray.nodes())

    def check(self, pass_index: int) -> list[LostNode]:
        """Remember the alive nodes' resources; report nodes that died since the start."""
        known = self.dead_before | {node.node_id for node in self.lost}
        newly: list[LostNode] = []
        for node in self._nodes():
            node_id = str(node["NodeID"])
            if node.get("Alive"):
                self.seen[node_id] = dict(node.get("Resources") or {})
            elif node_id not in known:
                newly.append(LostNode(node_id, str(node.get("NodeManagerAddress", "?")),
                                      self.seen.get(node_id, {}),
                                      str(node.get("DeathReasonMessage") or ""), pass_index))
        for node in newly:
            print(node.message(), file=sys.stderr)
        self.lost.extend(newly)
        return newly

def lost_nodes_line(summary: dict[str, Any]) -> str:
    """One sentence for the report and the closing table ('' when no node was lost)."""
    lost = summary.get("lost_nodes") or []
    if not lost:
        return ""
    named = ", ".join(f"{n['node_id'][:12]} at {n['address']} (pass {n['pass_index'] + 1})"
                      for n in lost)
    return f"Lost Ray nodes: {named}; their shard tasks ran again on the other nodes."
