#!/usr/bin/env python3
"""Allocation sites of a dhat profile, per request: the first frames of
Herald's own code above each allocation, summed.

    dhat_sites.py DHAT.json N [total|peak]

total: blocks allocated over the run (allocations per request);
peak: bytes live at the heap's peak (memory per request held, e.g. per
subscription when N subscriptions are held)."""
import collections
import json
import re
import sys

OURS = re.compile(r"(herald|sip_msg|sip_proto|sip_net|sip_auth|simple_\w+|msrp\w*)::")


def site(frames):
    for i, f in enumerate(frames):
        name = f.split(" (")[0]
        if OURS.search(name) or re.match(r"^\{(async_fn|closure)#\d+\}<(herald|sip|simple)", f):
            return " | ".join(re.sub(r"<[^ ]*", "<..>", x)[:75] for x in frames[max(0, i - 1):i + 2])
    return "(outside Herald) " + " | ".join(x[:50] for x in frames[1:4])


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "total"
    d = json.load(open(path))
    table = d["ftbl"]
    count = collections.Counter()
    size = collections.Counter()
    for pp in d["pps"]:
        frames = [re.sub(r"^0x[0-9A-F]+: ", "", table[i]) for i in pp["fs"]]
        key = site(frames)
        if mode == "peak":
            count[key] += pp.get("gbk", 0)
            size[key] += pp.get("gb", 0)
        else:
            count[key] += pp["tbk"]
            size[key] += pp["tb"]
    ranked = size if mode == "peak" else count
    total = sum(ranked.values())
    unit = "bytes" if mode == "peak" else "blocks"
    print(f"{total / n:.1f} {unit} per request ({mode})")
    for key, v in ranked.most_common(40):
        if v / n < 0.5:
            break
        print(f"{count[key] / n:7.2f} blk {size[key] / n:9.1f} B  {key}")


if __name__ == "__main__":
    main()
