#!/usr/bin/env python3
"""Checks that src/'s folders include only downwards.

    check_layers.py --layer NAME=DEP,DEP ... TREE...     check the trees
    check_layers.py --self-test                           check the checker

Each --layer names a folder of src/ and the folders it depends on directly (the
table CMake records in SHMSTACK_LAYERS, one entry per shmstack_subsystem()). A
file in TREE/NAME/ may include "NAME/..." and "DEP/..." for every DEP reachable
from NAME; any other project include is a violation, and so is a project
include without a folder ("error.hpp"), a folder the table does not name, or a
cycle in the table. TREE is src/ or a tree that mirrors it (test/unit/).
Prints one line per violation, FILE:LINE: what, and exits 1 if there is any.
"""
import argparse
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_SUFFIXES = ('.hpp', '.cpp', '.h', '.in')


def parse_layers(entries):
    layers = {}
    for entry in entries:
        name, _, deps = entry.partition('=')
        layers[name] = [d for d in deps.split(',') if d]
    for name, deps in layers.items():
        for dep in deps:
            if dep not in layers:
                raise SystemExit(f'check_layers: {name} depends on unknown layer {dep}')
    return layers


def reachable(layers):
    """For each layer, itself and every layer below it; raises on a cycle."""
    closure = {}

    def visit(name, path):
        if name in path:
            raise SystemExit('check_layers: cycle in the layer table: ' + ' -> '.join(path + [name]))
        if name not in closure:
            below = {name}
            for dep in layers[name]:
                below |= visit(dep, path + [name])
            closure[name] = below
        return closure[name]

    for name in layers:
        visit(name, [])
    return closure


def check_tree(tree, layers, allowed, local_headers=()):
    """Violations in one tree: a list of 'FILE:LINE: what' lines."""
    problems = []
    for entry in sorted(os.listdir(tree)):
        folder = os.path.join(tree, entry)
        if not os.path.isdir(folder):
            continue
        if entry not in layers:
            problems.append(f'{folder}: folder is not a layer (add it with shmstack_subsystem)')
            continue
        for root, _, files in os.walk(folder):
            for file in sorted(files):
                if not file.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(root, file)
                with open(path, encoding='utf-8') as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        if '/' not in target:
                            if target not in local_headers:
                                problems.append(f'{path}:{number}: "{target}" has no folder '
                                                f'(spell it from src/, e.g. "{entry}/{target}")')
                            continue
                        layer = target.split('/', 1)[0]
                        if layer not in layers:
                            problems.append(f'{path}:{number}: "{target}" is in no layer')
                        elif layer not in allowed[entry]:
                            problems.append(f'{path}:{number}: {entry}/ includes "{target}": '
                                            f'{layer}/ is not below {entry}/')
    return problems


def self_test():
    layers = parse_layers(['base=', 'archive=base', 'bcast=archive'])
    allowed = reachable(layers)
    with tempfile.TemporaryDirectory() as tree:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
            with open(os.path.join(tree, rel), 'w') as f:
                f.write(text)
        write('base/error.hpp', '#include <string>\n')
        write('archive/pack.cpp', '#include "archive/pack.hpp"\n#include "base/error.hpp"\n')
        write('bcast/bcast.cpp', '#include "base/error.hpp"\n')
        if check_tree(tree, layers, allowed):
            return 'a clean tree was reported'
        write('archive/walk.cpp', '#include "bcast/bcast.hpp"\n')
        write('base/log.cpp', '# include "error.hpp"\n')
        write('stray/x.cpp', '\n')
        found = check_tree(tree, layers, allowed)
        wanted = ['archive/walk.cpp:1: archive/ includes "bcast/bcast.hpp"',
                  'base/log.cpp:1: "error.hpp" has no folder', 'stray: folder is not a layer']
        for want in wanted:
            if not any(want in line for line in found):
                return f'not reported: {want} (got {found})'
    try:
        reachable(parse_layers(['a=b', 'b=a']))
        return 'a cycle was not reported'
    except SystemExit:
        pass
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--layer', action='append', default=[], metavar='NAME=DEPS')
    parser.add_argument('--local', action='append', default=[], metavar='HEADER',
                        help='a header of the tree itself that needs no folder (temp_dir.hpp)')
    parser.add_argument('--self-test', action='store_true')
    parser.add_argument('trees', nargs='*')
    args = parser.parse_args()
    if args.self_test:
        failure = self_test()
        if failure:
            print('check_layers: self-test failed:', failure)
            return 1
        print('check_layers: self-test passed')
        return 0
    layers = parse_layers(args.layer)
    allowed = reachable(layers)
    problems = []
    for tree in args.trees:
        problems += check_tree(tree, layers, allowed, set(args.local))
    for line in problems:
        print(line)
    if problems:
        print(f'check_layers: {len(problems)} include(s) against the layering', file=sys.stderr)
        return 1
    print(f'check_layers: {", ".join(args.trees)}: every include goes downwards '
          f'({" < ".join(sorted(layers, key=lambda n: len(allowed[n])))})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
