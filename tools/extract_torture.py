#!/usr/bin/env python3
"""Regenerate the SIP torture-test messages in testdata/ from the RFC texts.

Usage:
    python3 tools/extract_torture.py RFC4475.TXT RFC5118.TXT [--out testdata]

Inputs are the plain-text RFCs (as published by the RFC Editor: page headers,
footers and form feeds are fine).

RFC 4475 (SIP torture tests)
    Appendix A.1 holds a base64, gzip-compressed tar archive with the
    bit-exact messages.  It is recovered with the RFC's own rule (see its
    Perl script): between the lines "-- BEGIN MESSAGE ARCHIVE --" and
    "-- END MESSAGE ARCHIVE --", keep only the lines that are a single
    whitespace-free token.  Page headers/footers contain spaces and form
    feeds are whitespace, so they drop out.  gzip checks the CRC32 and the
    length, so a corrupted copy of the RFC fails loudly.  Every archive
    member is written unchanged to <out>/rfc4475/<name>.

RFC 5118 (IPv6 torture tests)
    Appendix A.1 holds an archive in the same format, but its members use
    bare LF line endings and two of them lack the empty line that ends the
    header section.  SIP needs CRLF, so each message is written as
    <out>/rfc5118/<tag>.dat with every line terminated by CRLF and the
    header section ending in CRLF CRLF.  Content-Length values are NOT
    changed.  As a cross-check the same messages are also rebuilt from the
    figures of section 4 ("Message Details: <tag>" followed by the message
    indented by 6 spaces, <allOneLine> folding undone, lines joined by CRLF)
    and compared with the archive; any difference is reported.

It also writes <out>/SHA256SUMS (check with: cd testdata && sha256sum -c
SHA256SUMS), warns about files missing from <out>/torture.toml, and prints a
Content-Length report for every file.
Exit status: 0 on success, 1 if an archive cannot be decoded or the
section 4 cross-check disagrees with the archive.
"""
import argparse
import base64
import hashlib
import gzip
import io
import os
import re
import sys
import tarfile

BEGIN = "-- BEGIN MESSAGE ARCHIVE --"
END = "-- END MESSAGE ARCHIVE --"
CRLF = b"\r\n"

PAGE_FOOTER = re.compile(r"^\S.*\[Page \d+\]\s*$")
PAGE_HEADER = re.compile(r"^RFC \d+\s.*\s\d{4}\s*$")


def read_lines(path):
    """Lines of a text file; form feeds stay inside lines (no splitlines())."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return text.replace("\r\n", "\n").split("\n")


def archive_members(lines, what):
    """Decode the Appendix A archive; return [(basename, bytes)] in tar order."""
    b64, inside, seen = [], False, False
    for line in lines:
        s = line.strip()
        if s == BEGIN:  # the Perl listing mentions the markers mid-line: ignored
            inside, seen = True, True
            b64 = []
            continue
        if s == END and inside:
            break
        if inside and re.fullmatch(r"\S+", s):
            b64.append(s)
    if not seen or not b64:
        sys.exit(f"{what}: no '{BEGIN}' block found")
    raw = base64.b64decode("".join(b64), validate=True)
    tar = gzip.decompress(raw)  # raises on CRC / length mismatch
    out = []
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        for m in tf.getmembers():
            if m.isfile():
                out.append((os.path.basename(m.name), tf.extractfile(m).read()))
    print(f"{what}: archive {len(raw)} bytes gzip, {len(tar)} bytes tar, "
          f"{len(out)} files, gzip CRC OK")
    return out


PAGE_BREAK = "\f"  # sentinel left where a page break was removed


def strip_pages(lines):
    """Replace each page break (blank padding, footer, form feed, running
    header, blank lines) by a single PAGE_BREAK sentinel line."""
    out, in_break = [], False
    for line in lines:
        if PAGE_FOOTER.match(line):
            while out and not out[-1].strip():
                out.pop()
            out.append(PAGE_BREAK)
            in_break = True
            continue
        if in_break:
            if not line.replace("\f", "").strip() or PAGE_HEADER.match(line.replace("\f", "")):
                continue
            in_break = False
        out.append(line.replace("\f", ""))
    return out


def figure_bytes(fig):
    """Figure lines (6-space indent) -> message bytes with CRLF line ends."""
    text, joined = [], None
    for l in fig:
        l = l[6:] if l.strip() else ""
        if l.strip() == "<allOneLine>":
            joined = ""
        elif l.strip() == "</allOneLine>":
            text.append(joined)
            joined = None
        elif joined is not None:
            joined += l
        else:
            text.append(l)
    while text and not text[0]:
        text.pop(0)
    while text and not text[-1]:
        text.pop()
    if "" in text:
        k = text.index("")
        head, body = text[:k], text[k + 1:]
    else:
        head, body = text, []
    data = CRLF.join(x.encode("utf-8") for x in head) + CRLF + CRLF
    if body:
        data += CRLF.join(x.encode("utf-8") for x in body) + CRLF
    return data


def section4_messages(lines):
    """RFC 5118 section 4 figures -> {tag: [candidate CRLF bytes]}.

    A page break inside a figure may or may not have swallowed the blank
    line between header and body, so each break yields one reading where it
    is nothing and one where it is an empty line."""
    lines = strip_pages(lines)
    start = next(i for i, l in enumerate(lines) if re.match(r"^4\.\s+Parser Torture Tests", l))
    end = next(i for i, l in enumerate(lines) if i > start and re.match(r"^5\.\s", l))
    msgs, i = {}, start
    while i < end:
        m = re.match(r"^\s+Message Details:\s*(\S+)\s*$", lines[i])
        i += 1
        if not m:
            continue
        fig = []
        while i < end and (not lines[i].strip() or lines[i] == PAGE_BREAK
                           or lines[i].startswith("      ")):
            fig.append(lines[i])
            i += 1
        breaks = [k for k, l in enumerate(fig) if l == PAGE_BREAK]
        readings = [[l for l in fig if l != PAGE_BREAK]]
        for b in breaks:
            readings.append(["" if k == b else l for k, l in enumerate(fig) if l != PAGE_BREAK or k == b])
        msgs[m.group(1)] = [figure_bytes(r) for r in readings]
    return msgs


def to_crlf(data):
    """LF -> CRLF; make sure the header section ends with an empty line."""
    data = data.replace(CRLF, b"\n").replace(b"\n", CRLF)
    if not data.endswith(CRLF):
        data += CRLF
    if CRLF + CRLF not in data:
        data += CRLF
    return data


def content_length_report(name, data):
    end = data.find(CRLF + CRLF)
    if end < 0:
        return f"{name}: no CRLF CRLF ending the header section"
    head, body = data[:end], data[end + 4:]
    unfolded = re.sub(rb"\r\n[ \t]+", b" ", head)
    cls = [v.strip().decode("latin-1") for v in
           re.findall(rb"(?im)^(?:content-length|l)[ \t]*:([^\r\n]*)", unfolded)]
    if cls == [str(len(body))]:
        return None
    shown = ", ".join(cls) if cls else "absent"
    return f"{name}: Content-Length {shown}, body {len(body)} octets"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rfc4475")
    ap.add_argument("rfc5118")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  os.pardir, "testdata"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    ok = True
    written = []

    for name, data in archive_members(read_lines(args.rfc4475), "RFC 4475"):
        rel = f"rfc4475/{name}"
        write(os.path.join(out, rel), data)
        written.append((rel, data))

    lines5118 = read_lines(args.rfc5118)
    from_text = section4_messages(lines5118)
    archive = archive_members(lines5118, "RFC 5118")
    for tag, raw in archive:
        data = to_crlf(raw)
        if data != raw:
            print(f"RFC 5118 {tag}: archive copy normalised to CRLF"
                  + ("" if b"\n\n" in raw else " (+ missing empty line)"))
        readings = from_text.pop(tag, None)
        if readings is None:
            print(f"RFC 5118 {tag}: WARNING no 'Message Details: {tag}' figure in section 4")
            ok = False
        elif data not in readings:
            print(f"RFC 5118 {tag}: WARNING section 4 text differs from archive")
            ok = False
        rel = f"rfc5118/{tag}.dat"
        write(os.path.join(out, rel), data)
        written.append((rel, data))
    for tag in from_text:
        print(f"RFC 5118 {tag}: WARNING figure in section 4 but not in archive")
        ok = False

    with open(os.path.join(out, "SHA256SUMS"), "w") as f:
        for rel, data in sorted(written):
            f.write(f"{hashlib.sha256(data).hexdigest()}  {rel}\n")
    print(f"wrote {len(written)} files and SHA256SUMS under {out}")

    manifest = os.path.join(out, "torture.toml")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            listed = set(re.findall(r'^file\s*=\s*"([^"]+)"', f.read(), re.M))
        for rel, _ in written:
            if rel not in listed:
                print(f"WARNING {rel} has no [[message]] entry in torture.toml")

    print("Content-Length disagreements (see testdata/torture.toml for which are deliberate):")
    for rel, data in written:
        msg = content_length_report(rel, data)
        if msg:
            print("  " + msg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
