"""Contest-style stdout comparison for I/O checks (the one copy; eval's checks use it too)."""

from __future__ import annotations


def outputs_match(expected: str, actual: str, rel_tol: float = 1e-6) -> bool:
    """Per line, whitespace-insensitive; numbers equal within ``rel_tol`` (at least 1 absolute)."""
    want = [ln.split() for ln in expected.strip().splitlines()]
    got = [ln.split() for ln in actual.strip().splitlines()]
    if want == got:
        return True
    if len(want) != len(got) or any(len(a) != len(b) for a, b in zip(want, got, strict=True)):
        return False
    for row_w, row_g in zip(want, got, strict=True):
        for w, g in zip(row_w, row_g, strict=True):
            if w == g:
                continue
            try:
                if abs(float(w) - float(g)) > rel_tol * max(1.0, abs(float(w))):
                    return False
            except ValueError:
                return False
    return True
