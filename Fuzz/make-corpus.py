#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus (Fuzz/corpus/TARGET/) from the project's own sources:
the hex examples of docs/PROTOCOL.md, every message type of the schema (from the generated
registry), the real ICE sheets under seeds/ice, and zlib streams made here.

Usage: Fuzz/make-corpus.py          write Fuzz/corpus
       Fuzz/make-corpus.py --check  exit 1 when the committed corpus differs from a fresh one
"""
import filecmp, os, re, shutil, sys, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def protocol_blocks():
    text = open(os.path.join(ROOT, "docs/PROTOCOL.md"), encoding="utf-8").read()
    examples = text[text.index("## 10. Example"):text.index("## 12.")]
    pieces = examples.split("```")
    return [bytes.fromhex(" ".join(pieces[i].split())) for i in range(1, len(pieces), 2)]


def frame(kind, call, payload=b"", flags=0):
    return len(payload).to_bytes(4, "big") + bytes([kind, flags]) + call.to_bytes(4, "big") + payload


def frames_seeds():
    client_preface, _, headers, message, _, _, _ = protocol_blocks()
    ping = frame(0x05, 0, b"12345678")
    cancel = frame(0x04, 1)
    goaway = frame(0x06, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big") + (4).to_bytes(2, "big") + b"done")
    stream = client_preface + headers + message
    return {
        "unary": bytes([7]) + stream,
        "unary-bytewise": bytes([0]) + stream,
        "ping-cancel-goaway": bytes([60]) + client_preface + ping + headers + cancel + goaway,
        "preface-only": bytes([11]) + client_preface,
    }


def message_seeds():
    registry = open(os.path.join(ROOT, "Shared/AccordMessages/Generated/MessageRegistry.pb.swift")).read()
    names = re.findall(r"^\s+(\w+)\.self,$", registry, re.M)
    seeds = {f"{index:03d}-{name}-empty": bytes([index % 256]) for index, name in enumerate(names)}
    echo = names.index("EchoRequest")
    seeds[f"{echo:03d}-EchoRequest-hi"] = bytes([echo]) + bytes.fromhex("0a026869")
    return seeds


def sheet_seeds():
    seeds = {}
    folder = os.path.join(ROOT, "seeds/ice")
    for name in sorted(os.listdir(folder)):
        lines = open(os.path.join(folder, name), "rb").read().split(b"\n")
        for start in (0, 40):
            chunk = b"\n".join(lines[:1] + lines[max(1, start):start + 30]) + b"\n"
            seeds[f"{name[:-4]}-{start}"] = chunk
    return seeds


def inflate_seeds():
    return {
        "text": zlib.compress(b"the agency's request, with its consent " * 40),
        "message": zlib.compress(bytes.fromhex("0a026869") * 300),
        "bomb": zlib.compress(bytes(1 << 20), 9),
        "empty": zlib.compress(b""),
    }


def write(folder):
    for target, seeds in [
        ("FuzzFrames", frames_seeds()),
        ("FuzzMessages", message_seeds()),
        ("FuzzICESheet", sheet_seeds()),
        ("FuzzInflate", inflate_seeds()),
    ]:
        os.makedirs(os.path.join(folder, target), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, target, name), "wb") as f:
                f.write(data)


def same(a, b):
    compared = filecmp.dircmp(a, b)
    if compared.left_only or compared.right_only or compared.diff_files or compared.funny_files:
        return False
    return all(same(os.path.join(a, d), os.path.join(b, d)) for d in compared.common_dirs)


corpus = os.path.join(ROOT, "Fuzz/corpus")
if sys.argv[1:] == ["--check"]:
    with tempfile.TemporaryDirectory() as fresh:
        write(fresh)
        if not os.path.isdir(corpus) or not same(fresh, corpus):
            print("make-corpus.py: Fuzz/corpus is stale; run Fuzz/make-corpus.py", file=sys.stderr)
            sys.exit(1)
    print("make-corpus.py: the seed corpus is fresh")
else:
    shutil.rmtree(corpus, ignore_errors=True)
    write(corpus)
    print(f"make-corpus.py: wrote {sum(len(f) for _, _, f in os.walk(corpus))} seeds under Fuzz/corpus")
