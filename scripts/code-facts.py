#!/usr/bin/env python3
"""Size facts of the hand-written Rust (generated code and codegen snapshots left out):
largest files, longest functions, and import cycles between the files of each crate.

Usage: python3 scripts/code-facts.py [--top N] [--src-only]
  --src-only: only library/binary sources (no tests/, benches/, examples/).

Functions are found by `fn NAME` and brace matching (strings, chars and comments skipped), so
a function's length is from its `fn` line to its closing brace. An import edge is a `use
crate::a::b` / `use super::x` (or a `crate::a::` path in code) from one file to the file that
holds that module; a cycle is a strongly connected set of two or more files.
"""
import re
import subprocess
import sys
from pathlib import Path

GENERATED = ("crates/threecx-ops/src/generated/", "codegen/tests/snapshots/")


def files(src_only):
    out = subprocess.run(["git", "ls-files", "*.rs"], capture_output=True, text=True, check=True)
    for path in out.stdout.split():
        if path.startswith(GENERATED):
            continue
        if src_only and ("/tests/" in f"/{path}" or "/benches/" in path or "/examples/" in path):
            continue
        yield path


def strip(text):
    """Code with strings, chars and comments blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not text[i - 1].isalnum()):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + len(hashes) + 2)
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]) or text.startswith("'\\u{", i):
            j = text.find("'", i + 1 if text[i + 1] != "\\" else i + 3)
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(code):
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        depth, j = 0, m.end()
        # The body starts at the first `{` not inside the signature's parentheses/generics.
        while j < len(code) and code[j] not in "{;":
            depth += code[j] == "("
            depth -= code[j] == ")"
            j += 1
            if depth < 0:
                break
        if j >= len(code) or code[j] == ";":
            continue
        level, k = 0, j
        while k < len(code):
            level += code[k] == "{"
            level -= code[k] == "}"
            if level == 0:
                break
            k += 1
        start = code.count("\n", 0, m.start()) + 1
        end = code.count("\n", 0, k) + 1
        yield m.group(1), start, end - start + 1


def module_files(crate_src):
    """Module path (tuple) -> file, for one crate's src folder."""
    mods = {}
    for p in crate_src.rglob("*.rs"):
        rel = p.relative_to(crate_src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        mods[tuple(parts)] = str(p)
    return mods


def owner(mods, path):
    while path:
        if path in mods:
            return mods[path]
        path = path[:-1]
    return None


def cycles(paths):
    crates = sorted({p.split("/src/")[0] + "/src" for p in paths if "/src/" in p})
    found = []
    for crate_src in crates:
        src = Path(crate_src)
        mods = module_files(src)
        here = {f: m for m, f in mods.items()}
        edges = {f: set() for f in here}
        for f, mod in here.items():
            code = strip(Path(f).read_text())
            for m in re.finditer(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)", code):
                parts = m.group(2).strip(":").split("::")
                # `super` is the parent of this file's module, whether it is `a/b.rs` or
                # `a/b/mod.rs`.
                base = () if m.group(1) == "crate" else mod[:-1]
                target = owner(mods, tuple(base) + tuple(parts))
                if target and target != f:
                    edges[f].add(target)
        found += [sorted(c) for c in scc(edges) if len(c) > 1]
    return found


def scc(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 5
    paths = list(files("--src-only" in sys.argv))
    sizes = sorted(((sum(1 for _ in open(p)), p) for p in paths), reverse=True)
    fns = []
    for p in paths:
        for name, line, length in functions(strip(Path(p).read_text())):
            fns.append((length, f"{p}:{line} {name}"))
    fns.sort(reverse=True)
    print(f"hand-written Rust files: {len(paths)}, lines: {sum(s for s, _ in sizes)}")
    print("largest files:")
    for lines, p in sizes[:top]:
        print(f"  {lines:5} {p}")
    print(f"files of 700 lines or more: {sum(1 for s, _ in sizes if s >= 700)}")
    print("longest functions:")
    for length, where in fns[:top]:
        print(f"  {length:5} {where}")
    print(f"functions of 100 lines or more: {sum(1 for l, _ in fns if l >= 100)}")
    cyc = cycles(paths)
    print(f"import cycles between files: {len(cyc)}")
    for c in cyc:
        print("  " + " <-> ".join(c))


if __name__ == "__main__":
    main()
