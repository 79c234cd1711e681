#!/usr/bin/env python3
"""Finds import cycles between the modules of a Rust crate.

    scripts/module-cycles.py SRC_DIR [SRC_DIR...]

A module is a file (`a/b.rs` or `a/b/mod.rs` is `a::b`; `lib.rs` and `main.rs` the root). Module A
depends on module B when A's code (comments and `#[cfg(test)] mod tests` left out) names B by a
`crate::`, `super::` or `self::` path, or by the name of one of A's child modules (`child::item`);
a path is charged to the longest module it starts with. Prints each cycle (a strongly connected
component of more than one module) with the edges inside it, and exits 1 when there is one.
Plain Python 3.
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b((?:crate|super|self)(?:::(?:super|[A-Za-z_]\w*))+)")
USE_GROUP = re.compile(r"use\s+((?:crate|super|self)(?:::\w+)*)::\{([^;]*)\};", re.S)


def modules(src: Path) -> dict[str, Path]:
    found = {}
    for path in src.rglob("*.rs"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            parts = []
        found["::".join(parts)] = path
    return found


def resolve(mods, current: str, path: str):
    segs = path.split("::")
    base = current.split("::") if current else []
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] == "super":
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        segs = segs[1:]
    else:
        return None
    full = base + segs
    for n in range(len(full), -1, -1):
        name = "::".join(full[:n])
        if name in mods:
            return name
    return None


def code_of(path: Path) -> str:
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests", path.read_text())[0]
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("//"))


def edges_of(mods):
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        text = code_of(path)
        depth = m.count("::") + 1 if m else 0
        for child in mods:
            if child != m and child.startswith(f"{m}::" if m else "") and child.count("::") == depth:
                if re.search(r"(?<![:\w])" + child.split("::")[-1] + r"::", text):
                    edges[m].add(child)
        for group in USE_GROUP.finditer(text):
            for item in re.split(r"[,\s]+", group.group(2)):
                item = item.strip("{} ")
                if item:
                    target = resolve(mods, m, f"{group.group(1)}::{item.split('::')[0]}")
                    if target is not None and target != m:
                        edges[m].add(target)
        for reference in PATH.findall(text):
            target = resolve(mods, m, reference)
            if target is not None and target != m:
                edges[m].add(target)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    status = 0
    for src in map(Path, sys.argv[1:]):
        mods = modules(src)
        edges = edges_of(mods)
        found = cycles(edges)
        for component in found:
            status = 1
            print(f"{src}: import cycle between {len(component)} modules:")
            members = set(component)
            for m in component:
                print(f"  {m or '(crate root)'} -> {', '.join(sorted(w or '(crate root)' for w in edges[m] if w in members))}")
        if not found:
            print(f"{src}: {len(mods)} modules, no import cycle")
    return status


if __name__ == "__main__":
    sys.exit(main())
