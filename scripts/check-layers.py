#!/usr/bin/env python3
"""Checks the include layering of src/ against the build's own declarations.

Usage: scripts/check-layers.py            (exit 0 when clean, 1 with one line per violation)

Rules, read from the top-level CMakeLists.txt (CAIRN_SUBSYSTEMS, the layer order) and from each
src/<subsystem>/CMakeLists.txt (cairn_library NAME and DEPS):

1. Link lists follow the layer order: a library's cairn_* DEPS are all listed before it.
2. Library code includes only its own headers and those of the libraries it links, directly or
   through their DEPS. This stands in for per-library include paths (every library has the one
   include root src/): a header of a library not linked is not on the library's path.
3. Test code beside a library (*_test.cpp, *_test_util.hpp, test_*.hpp, *_bench.cpp) may include
   its own and lower layers, plus common/testing/. Library code never includes common/testing/.
4. Nothing under src/ includes apps/ or tests/.
5. Third-party headers with a layer of their own: Boost.Asio only in net (the libp2p host), dht
   (its node on the host),
   bitswap (its adapter onto the host), http, gateway and api; Boost.Beast only in http, gateway and api (DESIGN.md: only they and the app
   include Beast); sqlite3.h only in metadata.

Includes are the quoted ones, "<subsystem>/<file>"; a quoted include that names no subsystem is
reported. Runs in well under a second.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

THIRD_PARTY = [  # (include prefix, subsystems allowed to include it)
    # bitswap: its libp2p adapter (bitswap/libp2p_network.cpp) runs on the host's executor.
    ("boost/asio", {"net", "bitswap", "dht", "http", "gateway", "api"}),
    ("boost/beast", {"http", "gateway", "api"}),
    ("sqlite3.h", {"metadata"}),
]
TEST_FILE = re.compile(r"(_test\.cpp|_test_util\.hpp|_bench\.cpp)$|(^|/)test_[^/]*\.hpp$")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)


def subsystems():
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    m = re.search(r"set\(CAIRN_SUBSYSTEMS\s+([^)]*)\)", text)
    if not m:
        sys.exit("check-layers: no set(CAIRN_SUBSYSTEMS ...) in CMakeLists.txt")
    return re.sub(r"#[^\n]*", "", m.group(1)).split()


def libraries(order):
    """folder -> (library name, [cairn_* deps]) from each folder's cairn_library call."""
    libs = {}
    for folder in order:
        text = open(os.path.join(SRC, folder, "CMakeLists.txt")).read()
        m = re.search(r"cairn_library\((.*?)\)", text, re.S)
        if not m:
            sys.exit(f"check-layers: src/{folder}/CMakeLists.txt has no cairn_library(...)")
        args = re.sub(r"#[^\n]*", "", m.group(1)).split()
        name = args[args.index("NAME") + 1]
        deps = []
        if "DEPS" in args:
            deps = [a[len("cairn_"):] for a in args[args.index("DEPS") + 1:] if a.startswith("cairn_")]
        libs[folder] = (name, deps)
    return libs


def owner(path, order):
    """The subsystem folder a src/-relative path belongs to (longest match), or None."""
    best = None
    for folder in order:
        if path == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best):
                best = folder
    return best


def main():
    order = subsystems()
    index = {folder: i for i, folder in enumerate(order)}
    libs = libraries(order)
    folder_of = {name: folder for folder, (name, _) in libs.items()}
    errors = []

    # Rule 1, and the closure of each library's link list.
    reach = {}
    for folder in order:
        name, deps = libs[folder]
        closure = set()
        for dep in deps:
            dep_folder = folder_of.get(dep)
            if dep_folder is None:
                errors.append(f"src/{folder}/CMakeLists.txt: links cairn_{dep}, not a subsystem")
                continue
            if index[dep_folder] >= index[folder]:
                errors.append(f"src/{folder}/CMakeLists.txt: links cairn_{dep} ({dep_folder}), "
                              f"which is not before {folder} in CAIRN_SUBSYSTEMS")
                continue
            closure |= {dep_folder} | reach[dep_folder]
        reach[folder] = closure

    for dirpath, _, files in os.walk(SRC):
        for file in sorted(files):
            if not file.endswith((".cpp", ".hpp", ".h")):
                continue
            full = os.path.join(dirpath, file)
            rel = os.path.relpath(full, SRC)
            me = owner(rel, order)
            if me is None:
                errors.append(f"src/{rel}: in no subsystem of CAIRN_SUBSYSTEMS")
                continue
            support = rel.startswith("common/testing/")
            test = support or bool(TEST_FILE.search(rel))
            text = open(full, encoding="utf-8", errors="replace").read()
            for m in INCLUDE.finditer(text):
                kind, inc = m.groups()
                line = text.count("\n", 0, m.start()) + 1
                where = f"src/{rel}:{line}: #include {kind}{inc}{'>' if kind == '<' else chr(34)}"
                if kind == "<":
                    for prefix, allowed in THIRD_PARTY:
                        if inc.startswith(prefix) and me not in allowed:
                            errors.append(f"{where}: only {', '.join(sorted(allowed))} may include it")
                    continue
                if inc.startswith(("apps/", "tests/")):
                    errors.append(f"{where}: src/ never includes apps/ or tests/")
                    continue
                target = owner(inc, order)
                if target is None:
                    errors.append(f"{where}: names no subsystem (one include root: <subsystem>/<file>)")
                    continue
                if inc.startswith("common/testing/"):
                    if not test:
                        errors.append(f"{where}: test support, for tests only")
                    continue
                if target == me:
                    continue
                if test:
                    if index[target] > index[me]:
                        errors.append(f"{where}: {target} is a later layer than {me}")
                elif target not in reach[me]:
                    later = " (a later layer)" if index[target] > index[me] else ""
                    errors.append(f"{where}: {me} does not link cairn_{libs[target][0]}{later}")

    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print(f"check-layers: {len(order)} subsystems, layering clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
