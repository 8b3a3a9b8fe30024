#!/usr/bin/env python3
# The folder include graph of src/ (a folder -> the folders its files include) and its cycles.
# Exits 1 when folders include each other in a cycle. Usage: scripts/folder-deps.py [src] [-v]
# (-v names the files behind each mutual include).
import os, re, sys, itertools
args = [a for a in sys.argv[1:] if not a.startswith('-')]
root = args[0] if args else 'src'
inc = re.compile(r'^\s*#\s*include\s+"([^"/]+)/[^"]+"', re.M)
edges = {}
why = {}
for d, _, files in os.walk(root):
    rel = os.path.relpath(d, root)
    if rel == '.': continue
    folder = rel.split(os.sep)[0]
    for f in files:
        if not f.endswith(('.h', '.cc')): continue
        text = open(os.path.join(d, f), encoding='utf-8', errors='replace').read()
        for m in inc.finditer(text):
            to = m.group(1)
            if to != folder and os.path.isdir(os.path.join(root, to)):
                edges.setdefault(folder, set()).add(to)
                why.setdefault((folder, to), []).append(f"{rel}/{f}")
folders = sorted(set(edges) | {t for s in edges.values() for t in s})
for f in folders:
    print(f"{f:10} -> {' '.join(sorted(edges.get(f, ())))}")
# strongly connected components (Tarjan)
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index: visit(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(sorted(c))
for v in folders:
    if v not in index: visit(v)
pairs = [(a, b) for a, b in itertools.combinations(folders, 2)
         if b in edges.get(a, ()) and a in edges.get(b, ())]
print("mutual:", ' '.join(f"{a}<->{b}" for a, b in pairs) or "none")
print("cycles (strongly connected folders):", '; '.join(' '.join(c) for c in sccs) or "none")
if '-v' in sys.argv:
    for a, b in pairs:
        print(f"  {a}->{b}: {' '.join(sorted(set(why[(a,b)])))}")
        print(f"  {b}->{a}: {' '.join(sorted(set(why[(b,a)])))}")
sys.exit(1 if sccs else 0)
