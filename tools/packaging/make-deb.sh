#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/packaging/make-deb.sh KEELCTL BACKENDD VERSION OUT - the keel-tools
# .deb: keelctl and keel-backendd (static builds: the package depends on no
# library) in /usr/sbin, their documentation and copyright, written with
# dpkg-deb. A Debian control domain installs it with
# `apt install ./keel-tools_VERSION_amd64.deb` (docs/admin-guide.md).
set -eu
keelctl=$1 backendd=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

for f in "$keelctl" "$backendd"; do
	[ -x "$f" ] || { echo "make-deb (keel-tools): $f is missing" >&2; exit 1; }
	if readelf -l "$f" | grep -q INTERP; then
		echo "make-deb (keel-tools): $f is not statically linked" >&2
		exit 1
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
doc=$root/usr/share/doc/keel-tools
mkdir -p "$root/DEBIAN" "$root/usr/sbin" "$doc"
install -m 755 "$keelctl" "$root/usr/sbin/keelctl"
install -m 755 "$backendd" "$root/usr/sbin/keel-backendd"
strip --strip-debug "$root/usr/sbin/keelctl" "$root/usr/sbin/keel-backendd"
install -m 644 "$top/docs/keelctl.md" "$doc/keelctl.md"
install -m 644 "$top/docs/admin-guide.md" "$doc/admin-guide.md"
{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: Keel"
	echo
	echo "Files: *"
	echo "Copyright: the Keel authors"
	echo "License: MIT"
	echo
	echo "License: MIT"
	cat <<-'MIT'
	 Permission is hereby granted, free of charge, to any person obtaining a
	 copy of this software and associated documentation files (the "Software"),
	 to deal in the Software without restriction, including without limitation
	 the rights to use, copy, modify, merge, publish, distribute, sublicense,
	 and/or sell copies of the Software, and to permit persons to whom the
	 Software is furnished to do so, subject to the following conditions:
	 .
	 The above copyright notice and this permission notice shall be included
	 in all copies or substantial portions of the Software.
	 .
	 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
	 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
	 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
	 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
	 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
	 FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
	 DEALINGS IN THE SOFTWARE.
	MIT
} > "$doc/copyright"
size=$(du -sk "$root/usr" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/control.in" > "$root/DEBIAN/control"
find "$root" -type d -exec chmod 755 {} +
dpkg-deb --root-owner-group --build "$root" "$out.tmp" > /dev/null
mv "$out.tmp" "$out"
echo "make-deb (keel-tools): built $out"
