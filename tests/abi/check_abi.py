#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/abi/check_abi.py: checks the public ABI headers against the committed layout reference.
"""Keel ABI layout and compatibility checker.

What it checks (docs/abi/CHANGES.md explains the rules):
  1. lint: every public header is plain, portable C (SPDX line, one-line
     title, KEEL_PUBLIC_<NAME>_H guard, keel_/KEEL_ names only, no long,
     enum, union, bitfield, pointer, float, attribute or pragma, a comment
     on every struct member);
  2. each header compiles alone as C99 (-pedantic -Wall -Wextra -Wpadded
     -Werror) with gcc -m64, gcc -m32, x86_64-w64-mingw32-gcc,
     i686-w64-mingw32-gcc and aarch64-linux-gnu-gcc, with KEEL_NO_STDINT and
     the includer's own typedefs, and as C++11 with g++;
  3. a generated printer (every struct, field and constant found in the
     headers) is compiled and run with gcc -m64 and gcc -m32; both outputs
     must agree (ILP32 vs LP64) and have no implicit padding;
  4. a generated C11 file of _Static_asserts (from the reference plus any
     new entries) is compiled, not run, by the three cross compilers;
  5. the output is compared with the reference: an entry whose value
     changed or that disappeared is a FAIL (BREAKING); an entry that is only
     in the output is a PASS with a note to append it (ADDITIVE). The one
     exception is the ABI minor (and the version word made from it), which
     may grow: a bump passes with a note, and --update records it.

Exit status: 0 pass, 1 fail, 2 usage error.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# name: (option, default executable, extra flags, runnable, i386-style
#        alignment cap, Debian package)
TARGETS = [
    ("gcc-m64", "gcc", "gcc", ["-m64"], True, None, "gcc"),
    ("gcc-m32", "gcc", "gcc", ["-m32"], True, 4, "gcc-12-multilib"),
    ("mingw-x86_64", "mingw64", "x86_64-w64-mingw32-gcc", [], False, None,
     "gcc-mingw-w64-x86-64"),
    ("mingw-i686", "mingw32", "i686-w64-mingw32-gcc", [], False, None,
     "gcc-mingw-w64-i686"),
    ("aarch64", "aarch64", "aarch64-linux-gnu-gcc", [], False, None,
     "gcc-aarch64-linux-gnu"),
]
CXX_PACKAGE = "g++"

WARN = ["-pedantic", "-Wall", "-Wextra", "-Werror"]
SCALAR = {"uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2,
          "uint32_t": 4, "int32_t": 4, "uint64_t": 8, "int64_t": 8}

SPDX = "/* SPDX-License-Identifier: MIT */"
FORBIDDEN = [
    (r"\blong\b", "'long' (use uint32_t/uint64_t)"),
    (r"\benum\b", "'enum' (use #define constants and fixed-width fields)"),
    (r"\bunion\b", "'union'"),
    (r"\b(float|double|_Bool|bool|size_t|uintptr_t|intptr_t|wchar_t)\b",
     "a non-fixed-width or non-integer type"),
    (r"__attribute__|__declspec|__packed|\b_Alignas\b|\balignas\b",
     "a compiler extension or alignment specifier"),
    (r"#\s*pragma", "'#pragma'"),
    (r"\bstatic\b|\binline\b|\bextern\b", "code or storage (headers hold types and constants)"),
]
MEMBER_RE = re.compile(
    r"^\s*(?P<type>struct\s+keel_\w+|u?int(?:8|16|32|64)_t)\s+"
    r"(?P<name>\w+)\s*(?P<dims>(?:\[\s*\w+\s*\])*)\s*;\s*(?P<comment>/\*.*\*/)?\s*$")
STRUCT_OPEN_RE = re.compile(r"^struct\s+(keel_\w+)\s*\{\s*$")
DEFINE_RE = re.compile(r"^#\s*define\s+(\w+)(\(?)(.*)$")


class Fail(Exception):
    pass


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                  text, flags=re.S)


def guard_name(rel):
    # keel/io/ring.h -> KEEL_PUBLIC_IO_RING_H
    stem = rel[len("keel/"):-len(".h")]
    return "KEEL_PUBLIC_" + re.sub(r"[^A-Za-z0-9]", "_", stem).upper() + "_H"


class Header:
    def __init__(self, root, rel):
        self.rel = rel
        self.path = os.path.join(root, rel)
        with open(self.path, encoding="utf-8") as f:
            self.text = f.read()
        self.structs = []       # [(name, [(type, member, dims)])]
        self.consts = []        # [name]
        self.strings = []       # [name]


def find_headers(root):
    out = []
    base = os.path.join(root, "keel")
    for d, _, files in os.walk(base):
        for fn in files:
            if fn.endswith(".h"):
                out.append(os.path.relpath(os.path.join(d, fn), root).replace(os.sep, "/"))
    return sorted(out)


def lint_and_parse(h, errors):
    lines = h.text.split("\n")
    if not lines or lines[0] != SPDX:
        errors.append("%s:1: first line must be '%s'" % (h.rel, SPDX))
    if len(lines) < 2 or not re.match(r"^/\* %s: .+\*/$" % re.escape(h.rel), lines[1]):
        errors.append("%s:2: second line must be a one-line comment '/* %s: <what it owns>. */'"
                      % (h.rel, h.rel))
    g = guard_name(h.rel)
    if not re.search(r"^#ifndef %s\n#define %s\n" % (g, g), h.text, re.M) \
            or not h.text.rstrip().endswith("#endif /* %s */" % g):
        errors.append("%s: include guard must be %s (#ifndef/#define ... #endif /* %s */)"
                      % (h.rel, g, g))
    code = strip_comments(h.text)
    for n, line in enumerate(code.split("\n"), 1):
        if line.lstrip().startswith("#include"):
            continue
        for pat, what in FORBIDDEN:
            if re.search(pat, line):
                errors.append("%s:%d: forbidden %s" % (h.rel, n, what))
    for m in re.finditer(r"^\s*#\s*include\s*(.*)$", code, re.M):
        inc = m.group(1).strip()
        if not (inc == "<stdint.h>" or re.match(r'^"(\.\./)?[a-z0-9_\-]+(/[a-z0-9_\-]+)?\.h"$', inc)):
            errors.append("%s: include %s: only <stdint.h> and other keel headers (quoted, relative)"
                          % (h.rel, inc))
    # Structs and members.
    cur = None
    code_lines = code.split("\n")
    for n, line in enumerate(lines, 1):
        cline = code_lines[n - 1]
        m = STRUCT_OPEN_RE.match(line)
        if m:
            cur = (m.group(1), [])
            h.structs.append(cur)
            continue
        if cur is not None:
            if re.match(r"^\};\s*$", line):
                if not cur[1]:
                    errors.append("%s:%d: struct %s has no members" % (h.rel, n, cur[0]))
                cur = None
                continue
            if re.match(r"^\s*(/\*.*\*/)?\s*$", line):
                continue
            mm = MEMBER_RE.match(line)
            if not mm:
                errors.append("%s:%d: cannot read this struct member (one 'type name[N];' per line, "
                              "types uint8_t..uint64_t, int8_t..int64_t or struct keel_*): %s"
                              % (h.rel, n, line.strip()))
                continue
            if not mm.group("comment"):
                errors.append("%s:%d: member %s.%s needs a comment saying who writes it "
                              "(IN/OUT/MBZ, fe:/be:, ...)" % (h.rel, n, cur[0], mm.group("name")))
            typ = re.sub(r"\s+", " ", mm.group("type"))
            cur[1].append((typ, mm.group("name"), mm.group("dims").replace(" ", "")))
            continue
        if re.match(r"^\s*(typedef|struct|union|enum)\b", cline):
            errors.append("%s:%d: declarations must be 'struct keel_<name> {' at column 0, "
                          "no typedefs" % (h.rel, n))
    if cur is not None:
        errors.append("%s: unterminated struct %s" % (h.rel, cur[0]))
    for m in re.finditer(r"\bstruct\s+(\w+)", code):
        if not m.group(1).startswith("keel_"):
            errors.append("%s: struct %s: public names start with keel_" % (h.rel, m.group(1)))
    # Constants.
    for n, line in enumerate(code.split("\n"), 1):
        m = DEFINE_RE.match(line.strip())
        if not m:
            continue
        name, paren, value = m.group(1), m.group(2), m.group(3).strip()
        if name == guard_name(h.rel):
            continue
        if not name.startswith("KEEL_"):
            errors.append("%s:%d: macro %s: public names start with KEEL_" % (h.rel, n, name))
            continue
        if paren:
            continue    # function-like helpers are not constants
        if not value:
            errors.append("%s:%d: macro %s has no value" % (h.rel, n, name))
        elif value.startswith('"'):
            h.strings.append(name)
        else:
            h.consts.append(name)


def run(cmd, cwd=None, timeout=120):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, universal_newlines=True)
        return p.returncode, p.stdout
    except FileNotFoundError as e:
        return 127, str(e)
    except subprocess.TimeoutExpired:
        return 124, "timed out: %s" % " ".join(cmd)


def c_ident(s):
    return re.sub(r"\W", "_", s)


def gen_printer(headers):
    out = ["/* Generated by tests/abi/check_abi.py: prints the ABI layout. */",
           "#include <stddef.h>", "#include <stdio.h>"]
    out += ['#include "%s"' % h.rel for h in headers]
    for h in headers:
        for s, _ in h.structs:
            out.append("struct keel_abi_align_%s { char c; struct %s t; };" % (s, s))
    out += ["int main(void)", "{"]
    for h in headers:
        for s, members in h.structs:
            out.append('\tprintf("struct %s size %%u align %%u\\n", (unsigned)sizeof(struct %s), '
                       "(unsigned)offsetof(struct keel_abi_align_%s, t));" % (s, s, s))
            for _, m, _ in members:
                out.append('\tprintf("field %s.%s offset %%u size %%u\\n", '
                           "(unsigned)offsetof(struct %s, %s), (unsigned)sizeof(((struct %s *)0)->%s));"
                           % (s, m, s, m, s, m))
        for c in h.consts:
            out.append('\tprintf("const %s 0x%%llx\\n", (unsigned long long)(%s));' % (c, c))
        for c in h.strings:
            out.append('\tprintf("str %s \\"%%s\\"\\n", %s);' % (c, c))
    out += ["\treturn 0;", "}", ""]
    return "\n".join(out)


def key_value(line):
    p = line.split()
    if p[0] in ("struct", "field", "const"):
        return " ".join(p[:2]), " ".join(p[2:])
    if p[0] == "str":
        return " ".join(p[:2]), line.split(" ", 2)[2]
    raise Fail("unreadable layout line: %r" % line)


def parse_layout(text):
    d = {}
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k, v = key_value(line)
        if k in d:
            raise Fail("duplicate layout entry %r" % k)
        d[k] = v
    return d


# The version constants are the only entries whose value may change: the
# minor grows by one with each release that adds something (README.md,
# "Versioning"), and the version word follows it.
VERSION_KEYS = ("const KEEL_ABI_MAJOR", "const KEEL_ABI_MINOR", "const KEEL_ABI_VERSION")


def check_version_bump(golden, ref, errors, notes):
    """The version keys that changed as a minor bump allows (a set); wrong changes go to errors."""
    if not all(k in golden and k in ref for k in VERSION_KEYS[1:]):
        return set()
    major, minor, version = (int(ref.get(k, "0"), 0) for k in VERSION_KEYS)
    old_minor = int(golden[VERSION_KEYS[1]], 0)
    if version != (major << 16) | minor:
        errors.append("KEEL_ABI_VERSION %#x is not (KEEL_ABI_MAJOR << 16) | KEEL_ABI_MINOR (%#x)"
                      % (version, (major << 16) | minor))
        return set()
    if minor == old_minor:
        return set()
    if minor < old_minor:
        errors.append("BREAKING: KEEL_ABI_MINOR went down from %d to %d" % (old_minor, minor))
        return set()
    notes.append("ADDITIVE: ABI minor %d -> %d (record it with --update and in docs/abi/CHANGES.md)"
                 % (old_minor, minor))
    return set(VERSION_KEYS[1:])


def gen_asserts(headers, entries, align_cap):
    out = ["/* Generated by tests/abi/check_abi.py from the reference: layout as asserts. */",
           "#include <stddef.h>"]
    out += ['#include "%s"' % h.rel for h in headers]
    structs = set(s for h in headers for s, _ in h.structs)
    consts = set(c for h in headers for c in h.consts)
    for s in sorted(structs):
        out.append("struct keel_abi_align_%s { char c; struct %s t; };" % (s, s))
    n = 0
    for k in sorted(entries):
        v = entries[k]
        kind, name = k.split(" ", 1)
        if kind == "struct" and name in structs:
            size, align = re.match(r"size (\d+) align (\d+)$", v).groups()
            align = int(align) if align_cap is None else min(int(align), align_cap)
            out.append('_Static_assert(sizeof(struct %s) == %s, "struct %s size %s");'
                       % (name, size, name, size))
            out.append('_Static_assert(offsetof(struct keel_abi_align_%s, t) == %d, '
                       '"struct %s align %d");' % (name, align, name, align))
            n += 2
        elif kind == "field" and name.split(".")[0] in structs:
            s, m = name.split(".")
            off, size = re.match(r"offset (\d+) size (\d+)$", v).groups()
            out.append('_Static_assert(offsetof(struct %s, %s) == %s, "field %s offset %s");'
                       % (s, m, off, name, off))
            out.append('_Static_assert(sizeof(((struct %s *)0)->%s) == %s, "field %s size %s");'
                       % (s, m, size, name, size))
            n += 2
        elif kind == "const" and name in consts:
            out.append('_Static_assert((unsigned long long)(%s) == %sull, "const %s %s");'
                       % (name, v, name, v))
            n += 1
    out.append("typedef int keel_abi_asserts_%d;" % n)
    out.append("")
    return "\n".join(out)


def natural_align(typ, struct_align):
    if typ in SCALAR:
        return SCALAR[typ]
    return struct_align[typ.split()[1]]


def check_structure(headers, layout, errors):
    """No implicit padding, natural alignment, size a multiple of alignment."""
    struct_align = {}
    for k, v in layout.items():
        if k.startswith("struct "):
            size, align = map(int, re.match(r"size (\d+) align (\d+)$", v).groups())
            struct_align[k[7:]] = align
    for h in headers:
        for s, members in h.structs:
            size = int(layout["struct " + s].split()[1])
            pos = 0
            worst = 1
            for typ, m, dims in members:
                off, msize = map(int, re.match(r"offset (\d+) size (\d+)$",
                                               layout["field %s.%s" % (s, m)]).groups())
                a = natural_align(typ, struct_align)
                worst = max(worst, a)
                if off != pos:
                    errors.append("struct %s: %d bytes of implicit padding before %s; add an "
                                  "explicit MBZ pad field" % (s, off - pos, m))
                if off % a:
                    errors.append("struct %s: %s at offset %d is not %d-aligned" % (s, m, off, a))
                pos = off + msize
            if pos != size:
                errors.append("struct %s: %d bytes of implicit tail padding; add an explicit "
                              "MBZ pad field" % (s, size - pos))
            if size % worst:
                errors.append("struct %s: size %d is not a multiple of its alignment %d"
                              % (s, size, worst))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--headers", default=os.path.join(REPO, "hypervisor", "include", "public"),
                    help="directory holding keel/*.h (default: the repo's)")
    ap.add_argument("--golden", default=os.path.join(HERE, "reference", "abi-v1.txt"),
                    help="the committed layout reference")
    ap.add_argument("--workdir", help="where generated files go (default: a temp dir, removed)")
    seen = set()
    for _, opt, default, _, _, _, pkg in TARGETS:
        if opt not in seen:
            seen.add(opt)
            ap.add_argument("--" + opt, default=default, help="compiler (Debian package %s)" % pkg)
    ap.add_argument("--cxx", default="g++", help="C++ compiler (Debian package %s)" % CXX_PACKAGE)
    ap.add_argument("--update", action="store_true",
                    help="append new (additive) entries to the reference; never changes existing ones")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    errors = []
    notes = []

    def report():
        for n in notes:
            print("note: " + n)
        if errors:
            for e in errors:
                print("FAIL: " + e)
            print("abi-check: FAIL (%d problem%s)" % (len(errors), "" if len(errors) == 1 else "s"))
            return 1
        print("abi-check: PASS")
        return 0

    # Compilers.
    compilers = {}
    for name, opt, _, flags, runnable, cap, pkg in TARGETS:
        exe = getattr(args, opt)
        path = shutil.which(exe) if exe else None
        if not path:
            errors.append("compiler for %s not found (%r): install the Debian package %s"
                          % (name, exe, pkg))
            continue
        compilers[name] = ([path] + flags, runnable, cap)
    cxx = shutil.which(args.cxx) if args.cxx else None
    if not cxx:
        errors.append("C++ compiler not found (%r): install the Debian package %s" % (args.cxx, CXX_PACKAGE))
    if errors:
        return report()

    # Headers: lint and parse.
    rels = find_headers(args.headers)
    if not rels:
        errors.append("no headers under %s/keel" % args.headers)
        return report()
    headers = [Header(args.headers, r) for r in rels]
    for h in headers:
        lint_and_parse(h, errors)
    names = {}
    for h in headers:
        for s, _ in h.structs:
            if s in names:
                errors.append("struct %s defined in %s and %s" % (s, names[s], h.rel))
            names[s] = h.rel

    work = args.workdir or tempfile.mkdtemp(prefix="keel-abi-")
    if args.workdir:
        os.makedirs(work, exist_ok=True)
    try:
        inc = ["-I", args.headers, "-I", os.path.join(args.headers, "keel")]
        jobs = []   # (description, command)

        # 2. Each header alone; all together; KEEL_NO_STDINT.
        def tu(fname, body):
            p = os.path.join(work, fname)
            with open(p, "w") as f:
                f.write(body)
            return p
        for h in headers:
            src = tu("alone_%s.c" % c_ident(h.rel),
                     '#include <%s>\ntypedef int keel_abi_tu_not_empty;\n' % h.rel)
            for name, (cc, _, _) in compilers.items():
                jobs.append(("%s: %s alone as C99" % (name, h.rel),
                             cc + ["-std=c99", "-Wpadded"] + WARN + inc + ["-fsyntax-only", "-x", "c", src]))
            jobs.append(("g++: %s alone as C++11" % h.rel,
                         [cxx, "-std=c++11", "-Wpadded"] + WARN + inc + ["-fsyntax-only", "-x", "c++", src]))
        allsrc = tu("all_headers.c", "".join('#include <%s>\n' % h.rel for h in headers))
        nostdint = tu("no_stdint.c",
                      "typedef unsigned char uint8_t;\ntypedef signed char int8_t;\n"
                      "typedef unsigned short uint16_t;\ntypedef short int16_t;\n"
                      "typedef unsigned int uint32_t;\ntypedef int int32_t;\n"
                      "typedef unsigned long long uint64_t;\ntypedef long long int64_t;\n"
                      "#define KEEL_NO_STDINT 1\n" +
                      "".join('#include <%s>\n' % h.rel for h in headers) +
                      "#ifdef UINT32_MAX\n#error <stdint.h> was included despite KEEL_NO_STDINT\n#endif\n")
        for name, (cc, _, _) in compilers.items():
            jobs.append(("%s: all headers together" % name,
                         cc + ["-std=c99"] + WARN + inc + ["-fsyntax-only", "-x", "c", allsrc]))
            jobs.append(("%s: KEEL_NO_STDINT with the includer's typedefs" % name,
                         cc + ["-std=c99", "-Wno-long-long"] + WARN + inc +
                         ["-fsyntax-only", "-x", "c", nostdint]))

        # 3. Printer for the runnable targets.
        printer = tu("layout_printer.c", gen_printer(headers))
        for name, (cc, runnable, _) in compilers.items():
            if runnable:
                jobs.append(("%s: build the layout printer" % name,
                             cc + ["-std=c99"] + WARN + inc +
                             ["-o", os.path.join(work, "printer-%s" % name), printer]))

        def go(job):
            desc, cmd = job
            rc, out = run(cmd)
            return desc, cmd, rc, out
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            for desc, cmd, rc, out in ex.map(go, jobs):
                if rc != 0:
                    errors.append("%s failed:\n  $ %s\n%s" % (desc, " ".join(cmd),
                                                              "\n".join("  " + l for l in out.strip().split("\n"))))
        if errors:
            return report()

        layouts = {}
        for name, (cc, runnable, cap) in compilers.items():
            if not runnable:
                continue
            rc, out = run([os.path.join(work, "printer-%s" % name)])
            if rc != 0:
                errors.append("%s: layout printer exited %d: %s" % (name, rc, out))
                continue
            lines = sorted(l for l in out.split("\n") if l)
            with open(os.path.join(work, "layout-%s.txt" % name), "w") as f:
                f.write("\n".join(lines) + "\n")
            layouts[name] = parse_layout("\n".join(lines))
        if errors:
            return report()

        ref = layouts["gcc-m64"]
        # ILP32 (gcc -m32) against LP64 (gcc -m64).
        for name, lay in layouts.items():
            cap = compilers[name][2]
            for k, v in ref.items():
                want = v
                if cap is not None and k.startswith("struct "):
                    size, align = re.match(r"size (\d+) align (\d+)$", v).groups()
                    want = "size %s align %d" % (size, min(int(align), cap))
                if lay.get(k) != want:
                    errors.append("%s differs from gcc-m64: %s is %r, gcc-m64 has %r"
                                  % (name, k, lay.get(k), want))

        # Completeness: every struct in the headers is in the output.
        for h in headers:
            for m in re.finditer(r"struct\s+(keel_\w+)\s*\{", strip_comments(h.text)):
                if "struct " + m.group(1) not in ref:
                    errors.append("%s: struct %s is missing from the layout output" % (h.rel, m.group(1)))

        check_structure(headers, ref, errors)

        # 5. Against the reference.
        golden = {}
        if os.path.exists(args.golden):
            with open(args.golden) as f:
                golden = parse_layout(f.read())
        elif not args.update:
            errors.append("reference %s does not exist (create it with --update)" % args.golden)
        bumped = check_version_bump(golden, ref, errors, notes)
        for k in sorted(golden):
            if k not in ref:
                errors.append("BREAKING: %s disappeared (reference: %s)" % (k, golden[k]))
            elif ref[k] != golden[k] and k not in bumped:
                errors.append("BREAKING: %s changed: reference %s, headers now %s" % (k, golden[k], ref[k]))
        added = sorted(k for k in ref if k not in golden)

        # 4. Cross compilers: compile-time asserts from the reference + new entries.
        entries = dict(golden)
        for k in added + sorted(bumped):
            entries[k] = ref[k]
        cross = []
        for name, (cc, runnable, cap) in compilers.items():
            src = tu("asserts-%s.c" % name, gen_asserts(headers, entries, cap))
            cross.append(("%s: layout asserts (C11, compiled, not run)" % name,
                          cc + ["-std=c11"] + WARN + inc +
                          ["-c", "-o", os.path.join(work, "asserts-%s.o" % name), src]))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            for desc, cmd, rc, out in ex.map(go, cross):
                if rc != 0:
                    msgs = re.findall(r'static assertion failed: "([^"]*)"', out)
                    detail = ("\n".join("  reference says " + m for m in msgs)
                              if msgs else "\n".join("  " + l for l in out.strip().split("\n")))
                    errors.append("%s failed:\n%s" % (desc, detail))

        if added:
            notes.append("ADDITIVE: %d new entr%s not in %s (allowed). Append them with\n"
                         "  python3 tests/abi/check_abi.py --update\n"
                         "and add an ADDITIVE entry to docs/abi/CHANGES.md:\n%s"
                         % (len(added), "y" if len(added) == 1 else "ies", args.golden,
                            "\n".join("  + %s %s" % (k, ref[k]) for k in added)))
        if args.update:
            if errors:
                notes.append("--update refused: fix the failures first (existing entries never change)")
            elif added or bumped:
                with open(args.golden) if os.path.exists(args.golden) else open(os.devnull) as f:
                    head = [l.rstrip("\n") for l in f if l.startswith("#")]
                merged = dict(golden)
                for k in added + sorted(bumped):
                    merged[k] = ref[k]
                with open(args.golden, "w") as f:
                    f.write("\n".join(head + ["%s %s" % (k, merged[k]) for k in sorted(merged)]) + "\n")
                notes.append("appended %d entries to %s" % (len(added), args.golden))
                if bumped:
                    notes.append("recorded ABI version %s in %s" % (ref[VERSION_KEYS[2]], args.golden))
        notes.append("checked %d headers, %d structs, %d fields, %d constants, %d strings with %s + %s"
                     % (len(headers), sum(1 for k in ref if k.startswith("struct ")),
                        sum(1 for k in ref if k.startswith("field ")),
                        sum(1 for k in ref if k.startswith("const ")),
                        sum(1 for k in ref if k.startswith("str ")),
                        ", ".join(compilers), os.path.basename(cxx)))
        return report()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print("FAIL: %s" % e)
        print("abi-check: FAIL")
        sys.exit(1)
