#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/conformance/check_musts.py - keeps tests/conformance/MUSTS.md in step
with the device specs (ctest: conformance-musts).

For each docs/abi/devices/*.md it counts the requirement words: every MUST
(MUST NOT included) outside the RFC 2119 boilerplate. MUSTS.md must have one
main row per occurrence (id <letter><number>, the letter naming the file),
in document order, each quoting the spec text around its MUST. Sub-rows
(R16.1, B6.3, ...) break a list up and are not counted. So a MUST added to
or removed from a spec, or a quote that no longer matches, fails the check
until the table is updated.

It also checks that each test the table names exists: `suite` "name" must
be a suite of tests/conformance/tests/test_<suite>.c holding that test (or
case) name; `unit:suite` "name" the same in tests/unit/core; `qemu-NAME` a
keel_qemu_test() in tests/integration.

Usage: check_musts.py SOURCE_DIR
"""
import glob
import os
import re
import sys

SPECS = {'R': 'ring.md', 'H': 'handshake.md', 'C': 'console.md', 'B': 'block.md', 'N': 'net.md'}
BOILERPLATE = [
    re.compile(r'The key words [^.]*? RFC 2119\.'),
    re.compile(r'MUST/SHOULD/MAY as in RFC 2119\.'),
]
MUST = re.compile(r'\bMUST\b')
MAIN_ID = re.compile(r'^([RHCBN])(\d+)$')
SUB_ID = re.compile(r'^([RHCBN])(\d+)\.(\d+)$')
CONF_REF = re.compile(r'`([a-z_]+)` "([^"]+)"')
UNIT_REF = re.compile(r'`unit:([a-z_]+)` "([^"]+)"')
QEMU_REF = re.compile(r'`qemu-([a-z0-9-]+)`')


def normalise(text):
    """Markdown reduced to words: no emphasis or code marks, one space between words."""
    text = text.replace('`', '').replace('**', '')
    return re.sub(r'\s+', ' ', text).strip()


def spec_text(path):
    text = normalise(open(path, encoding='utf-8').read())
    for pattern in BOILERPLATE:
        text = pattern.sub('', text)
    return text


def table_rows(path):
    """(line number, cells) of every table row of MUSTS.md with an id in its first cell."""
    rows = []
    for number, line in enumerate(open(path, encoding='utf-8'), 1):
        if not line.startswith('|'):
            continue
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if cells and (MAIN_ID.match(cells[0]) or SUB_ID.match(cells[0])):
            rows.append((number, cells))
    return rows


def suite_files(directory):
    """Suite name -> source text, for every test_*.c of @directory."""
    suites = {}
    for path in glob.glob(os.path.join(directory, 'test_*.c')):
        text = open(path, encoding='utf-8').read()
        for name in re.findall(r'CU_SuiteInfo\s+\w+\s*=\s*\{\s*(?:\.pName\s*=\s*)?"([^"]+)"', text):
            suites[name] = text
    return suites


def check_quotes(src, rows, errors):
    counted = {letter: 0 for letter in SPECS}
    position = {letter: 0 for letter in SPECS}
    texts = {letter: spec_text(os.path.join(src, 'docs/abi/devices', name))
             for letter, name in SPECS.items()}
    for number, cells in rows:
        match = MAIN_ID.match(cells[0])
        if not match:
            continue
        letter = match.group(1)
        counted[letter] += 1
        quote = re.search(r'"([^"]+)"', cells[1] if len(cells) > 1 else '')
        if not quote:
            errors.append(f'MUSTS.md:{number}: {cells[0]}: no "quote" of the spec')
            continue
        words = normalise(quote.group(1))
        if len(MUST.findall(words)) != 1:
            errors.append(f'MUSTS.md:{number}: {cells[0]}: the quote must hold exactly one MUST')
            continue
        at = texts[letter].find(words, position[letter])
        if at < 0:
            errors.append(f'MUSTS.md:{number}: {cells[0]}: quote not found in '
                          f'{SPECS[letter]} after the previous row\'s: "{words}"')
            continue
        position[letter] = at + MUST.search(words).start() + 1
    for letter, name in SPECS.items():
        want = len(MUST.findall(texts[letter]))
        if counted[letter] != want:
            errors.append(f'MUSTS.md has {counted[letter]} rows for {name}, '
                          f'which has {want} MUST/MUST NOT: update the table')
    return texts


def check_refs(src, rows, errors):
    conformance = suite_files(os.path.join(src, 'tests/conformance/tests'))
    unit = suite_files(os.path.join(src, 'tests/unit/core'))
    qemu = set()
    for path in glob.glob(os.path.join(src, 'tests/integration/*.cmake')):
        qemu.update(re.findall(r'keel_qemu_test\(\s*([a-z0-9-]+)', open(path).read()))
    refs = 0
    for number, cells in rows:
        line = ' | '.join(cells[2:])
        for kind, pattern, suites in (('conformance', CONF_REF, conformance),
                                      ('unit', UNIT_REF, unit)):
            for suite, test in pattern.findall(line):
                refs += 1
                if suite not in suites:
                    errors.append(f'MUSTS.md:{number}: no {kind} suite "{suite}"')
                elif f'"{test}"' not in suites[suite]:
                    errors.append(f'MUSTS.md:{number}: {kind} suite {suite} has no test "{test}"')
        for name in QEMU_REF.findall(line):
            refs += 1
            if name not in qemu:
                errors.append(f'MUSTS.md:{number}: no QEMU test qemu-{name}')
    return refs


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = sys.argv[1]
    rows = table_rows(os.path.join(src, 'tests/conformance/MUSTS.md'))
    errors = []
    texts = check_quotes(src, rows, errors)
    refs = check_refs(src, rows, errors)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    counts = ', '.join(f'{SPECS[l]} {len(MUST.findall(t))}' for l, t in texts.items())
    print(f'MUSTS.md matches the specs ({counts}); {refs} test references exist')
    return 0


if __name__ == '__main__':
    sys.exit(main())
