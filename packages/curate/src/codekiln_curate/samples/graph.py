"""Dependency order for one repository: Tarjan SCCs, then a deterministic topological walk.

Edges point from a file to the files it imports, so dependencies come first. Cycles are
broken by keeping each strongly connected component together, ordered by path; among ready
components the one with the smallest path goes first, so the order never depends on dict or
input order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping


def strongly_connected(nodes: list[str], edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (deep import chains must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop(0)
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def dependency_order(nodes: list[str], edges: Mapping[str, set[str]]) -> list[str]:
    """Every file after the files it imports (cycles: by path), ties by smallest path."""
    node_set = set(nodes)
    clean = {n: {d for d in edges.get(n, ()) if d in node_set and d != n} for n in nodes}
    components = strongly_connected(nodes, clean)
    owner = {member: i for i, comp in enumerate(components) for member in comp}
    waiting_on = [0] * len(components)
    dependents: list[set[int]] = [set() for _ in components]
    for node, deps in clean.items():
        for dep in deps:
            a, b = owner[node], owner[dep]
            if a != b and a not in dependents[b]:
                dependents[b].add(a)
                waiting_on[a] += 1
    ready = [(comp[0], i) for i, comp in enumerate(components) if waiting_on[i] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.extend(components[i])
        for j in dependents[i]:
            waiting_on[j] -= 1
            if waiting_on[j] == 0:
                heapq.heappush(ready, (components[j][0], j))
    return order


def weak_components(nodes: list[str], edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Weakly connected components (union-find), each sorted, ordered by smallest path."""
    parent = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for node in nodes:
        for dep in edges.get(node, ()):
            if dep in parent:
                a, b = find(node), find(dep)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for node in nodes:
        groups.setdefault(find(node), []).append(node)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])
