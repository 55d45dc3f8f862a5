#!/usr/bin/env python3
"""Generates Swift value types for the messages in proto/accord/v1/*.proto.

Usage: gen_swift.py PROTO_ROOT SWIFT_OUT_DIR C_OUT_DIR

The .proto files follow the conventions written at the top of common.proto; anything outside
them is an error with the file and line, so that the generated code never silently drops a
field. For each file F.proto it writes SWIFT_OUT_DIR/F.pb.swift. It also writes
C_OUT_DIR/accord_descriptors.c and C_OUT_DIR/include/accord_descriptors.h, one accessor
function per message descriptor, and C_OUT_DIR/include/CAccordProto.h, the umbrella header.

The Swift types do not touch C structs field by field: they list their fields by descriptor
index and the runtime in Shared/AccordMessages reads and writes them through protobuf-c's
message descriptors.
"""

import os
import re
import sys

SCALARS = {
    "int32": "Int32",
    "int64": "Int64",
    "uint32": "UInt32",
    "uint64": "UInt64",
    "sint32": "Int32",
    "sint64": "Int64",
    "double": "Double",
    "float": "Float",
}

SWIFT_KEYWORDS = {
    "default", "case", "switch", "class", "struct", "enum", "protocol", "extension", "func",
    "import", "init", "let", "var", "return", "self", "Self", "static", "where", "while", "for",
    "in", "if", "else", "do", "try", "throw", "throws", "public", "internal", "private", "operator",
    "repeat", "is", "as", "nil", "true", "false", "super", "subscript", "associatedtype", "inout",
    "deinit", "fileprivate", "guard", "continue", "break", "fallthrough", "defer", "catch", "rethrows",
    "typealias", "any", "some", "Type", "Protocol",
}


class ProtoError(Exception):
    pass


def camel(snake, upper_first=False):
    parts = snake.lower().split("_")
    out = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    if upper_first:
        out = out[:1].upper() + out[1:]
    return out


def snake_from_camel(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def escape(identifier):
    return f"`{identifier}`" if identifier in SWIFT_KEYWORDS else identifier


class Field:
    def __init__(self, label, type_name, name, number, doc):
        self.label, self.type_name, self.name, self.number, self.doc = label, type_name, name, number, doc


class Message:
    def __init__(self, name, doc):
        self.name, self.doc, self.fields = name, doc, []


class Enum:
    def __init__(self, name, doc):
        self.name, self.doc, self.values = name, doc, []


class Method:
    def __init__(self, name, request, response, streaming, idempotent, doc):
        self.name, self.request, self.response = name, request, response
        self.streaming, self.idempotent, self.doc = streaming, idempotent, doc


class Service:
    def __init__(self, name, doc):
        self.name, self.doc, self.methods = name, doc, []


class ProtoFile:
    def __init__(self, path):
        self.path = path
        self.messages, self.enums, self.services = [], [], []


FIELD_RE = re.compile(r"^(optional|repeated|required)\s+([A-Za-z0-9_.]+)\s+([a-z][a-z0-9_]*)\s*=\s*(\d+)\s*;$")
ENUM_VALUE_RE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=\s*(-?\d+)\s*;$")
RPC_RE = re.compile(
    r"^rpc\s+([A-Z][A-Za-z0-9]*)\s*\(\s*([A-Z][A-Za-z0-9]*)\s*\)\s*returns\s*\(\s*(stream\s+)?([A-Z][A-Za-z0-9]*)\s*\)\s*;$"
)


def parse(path, display):
    pf = ProtoFile(display)
    doc, block, stack_kind = [], None, None
    idempotent = False
    saw_syntax = saw_package = False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for lineno, raw in enumerate(lines, 1):
        where = f"{display}:{lineno}"
        line = raw.strip()
        if not line:
            doc = [] if stack_kind is None else doc
            continue
        if line.startswith("//"):
            text = line[2:].strip()
            if text == "@idempotent":
                idempotent = True
            else:
                doc.append(text)
            continue
        if "//" in line:
            line = line[: line.index("//")].strip()
        if line.startswith("syntax"):
            if line != 'syntax = "proto2";':
                raise ProtoError(f"{where}: only proto2 is used (explicit presence)")
            saw_syntax = True
        elif line.startswith("package"):
            if line != "package accord.v1;":
                raise ProtoError(f"{where}: the package is accord.v1")
            saw_package = True
        elif line.startswith("import"):
            continue
        elif line.startswith("option "):
            raise ProtoError(f"{where}: options are not used")
        elif stack_kind is None and re.match(r"^message\s+[A-Z][A-Za-z0-9]*\s*\{\s*\}$", line):
            pf.messages.append(Message(re.match(r"^message\s+([A-Z][A-Za-z0-9]*)", line).group(1), doc))
            doc = []
        elif stack_kind is None:
            m = re.match(r"^(message|enum|service)\s+([A-Z][A-Za-z0-9]*)\s*\{$", line)
            if not m:
                raise ProtoError(f"{where}: expected a message, enum or service declaration")
            kind, name = m.groups()
            block = {"message": Message, "enum": Enum, "service": Service}[kind](name, doc)
            stack_kind, doc = kind, []
            {"message": pf.messages, "enum": pf.enums, "service": pf.services}[kind].append(block)
        elif line == "}":
            stack_kind, block, doc = None, None, []
        elif stack_kind == "message":
            m = FIELD_RE.match(line)
            if not m:
                raise ProtoError(f"{where}: expected `optional|repeated TYPE name = N;` (no nesting, maps or oneof)")
            label, type_name, name, number = m.groups()
            if label == "required":
                raise ProtoError(f"{where}: `required` is not used; use optional and validate")
            if "." in type_name:
                raise ProtoError(f"{where}: refer to types by their short name within accord.v1")
            block.fields.append(Field(label, type_name, name, int(number), doc))
            doc = []
        elif stack_kind == "enum":
            m = ENUM_VALUE_RE.match(line)
            if not m:
                raise ProtoError(f"{where}: expected `NAME = N;`")
            name, number = m.groups()
            prefix = snake_from_camel(block.name).upper() + "_"
            if not name.startswith(prefix):
                raise ProtoError(f"{where}: enum values of {block.name} start with {prefix}")
            if not block.values and (int(number) != 0 or name != prefix + "UNSPECIFIED"):
                raise ProtoError(f"{where}: the first value of {block.name} is {prefix}UNSPECIFIED = 0")
            block.values.append((name, int(number), doc))
            doc = []
        elif stack_kind == "service":
            m = RPC_RE.match(line)
            if not m:
                raise ProtoError(f"{where}: expected `rpc Name(Request) returns ([stream] Response);`")
            name, request, streaming, response = m.groups()
            block.methods.append(Method(name, request, response, bool(streaming), idempotent, doc))
            doc, idempotent = [], False
    if not (saw_syntax and saw_package):
        raise ProtoError(f"{display}: syntax and package lines are required")
    return pf


def check(files):
    messages = {m.name: m for pf in files for m in pf.messages}
    enums = {e.name: e for pf in files for e in pf.enums}
    names = list(messages) + list(enums)
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ProtoError(f"types declared twice: {sorted(dupes)}")
    for m in messages.values():
        numbers = [f.number for f in m.fields]
        if len(set(numbers)) != len(numbers):
            raise ProtoError(f"{m.name}: field numbers repeat")
        for f in m.fields:
            if f.type_name not in SCALARS and f.type_name not in ("bool", "string", "bytes") \
                    and f.type_name not in messages and f.type_name not in enums:
                raise ProtoError(f"{m.name}.{f.name}: unknown type {f.type_name}")
    # No message may contain itself, directly or through others (bounded decoding depth).
    def visit(name, path):
        if name in path:
            raise ProtoError(f"recursive message types: {' -> '.join(path + [name])}")
        for f in messages[name].fields:
            if f.type_name in messages:
                visit(f.type_name, path + [name])
    for name in messages:
        visit(name, [])
    for pf in files:
        for s in pf.services:
            for meth in s.methods:
                for t in (meth.request, meth.response):
                    if t not in messages:
                        raise ProtoError(f"{s.name}.{meth.name}: unknown message {t}")
    return messages, enums


def c_function(message_name):
    return f"accord_descriptor_{snake_from_camel(message_name)}"


def doc_lines(doc, indent):
    return "".join(f"{indent}/// {d}\n" if d else f"{indent}///\n" for d in doc)


def swift_type(f, messages, enums):
    t = f.type_name
    if t in SCALARS:
        base = SCALARS[t]
    elif t == "bool":
        base = "Bool"
    elif t == "string":
        base = "String"
    elif t == "bytes":
        base = "[UInt8]"
    else:
        base = t
    return f"[{base}]" if f.label == "repeated" else f"{base}?"


def read_expr(f, index, messages, enums):
    t, rep = f.type_name, f.label == "repeated"
    if t in SCALARS:
        return f"r.scalars({index}, as: {SCALARS[t]}.self)" if rep else f"r.scalar({index}, as: {SCALARS[t]}.self)"
    if t == "bool":
        return f"r.bools({index})" if rep else f"r.bool({index})"
    if t == "string":
        return f"r.strings({index})" if rep else f"r.string({index})"
    if t == "bytes":
        return f"r.bytesList({index})" if rep else f"r.bytes({index})"
    if t in enums:
        return f"r.enumValues({index}).map({t}.init(rawValue:))" if rep \
            else f"r.enumValue({index}).map({t}.init(rawValue:))"
    return f"r.messages({index}, as: {t}.self)" if rep else f"r.message({index}, as: {t}.self)"


def write_stmt(f, index, prop, messages, enums):
    t, rep = f.type_name, f.label == "repeated"
    if t in SCALARS:
        return f"w.setScalars({index}, {prop})" if rep else f"w.setScalar({index}, {prop})"
    if t == "bool":
        return f"w.setBools({index}, {prop})" if rep else f"w.setBool({index}, {prop})"
    if t == "string":
        return f"try w.setStrings({index}, {prop})" if rep else f"try w.setString({index}, {prop})"
    if t == "bytes":
        return f"w.setBytesList({index}, {prop})" if rep else f"w.setBytes({index}, {prop})"
    if t in enums:
        return f"w.setEnumValues({index}, {prop}.map(\\.rawValue))" if rep \
            else f"w.setEnumValue({index}, {prop}?.rawValue)"
    return f"try w.setMessages({index}, {prop})" if rep else f"try w.setMessage({index}, {prop})"


def gen_enum(e):
    out = doc_lines(e.doc, "")
    prefix = snake_from_camel(e.name).upper() + "_"
    cases = [(escape(camel(n[len(prefix):])), n, v, d) for n, v, d in e.values]
    out += f"public enum {e.name}: ProtoEnum {{\n"
    for case, _, _, d in cases:
        out += doc_lines(d, "    ")
        out += f"    case {case}\n"
    out += "    /// A value this version of the schema does not know.\n"
    out += "    case unrecognized(Int32)\n\n"
    out += "    public init(rawValue: Int32) {\n        switch rawValue {\n"
    for case, _, v, _ in cases:
        out += f"        case {v}: self = .{case.strip('`')}\n"
    out += "        default: self = .unrecognized(rawValue)\n        }\n    }\n\n"
    out += "    public var rawValue: Int32 {\n        switch self {\n"
    for case, _, v, _ in cases:
        out += f"        case .{case.strip('`')}: {v}\n"
    out += "        case .unrecognized(let value): value\n        }\n    }\n\n"
    out += "    public static let knownCases: [Self] = [" + ", ".join(f".{c.strip('`')}" for c, _, _, _ in cases) + "]\n\n"
    out += "    public static let protoNames: [Int32: String] = [\n"
    for _, n, v, _ in cases:
        out += f"        {v}: \"{n}\",\n"
    out += "    ]\n}\n"
    return out


def gen_message(m, messages, enums):
    ordered = sorted(m.fields, key=lambda f: f.number)
    out = doc_lines(m.doc, "")
    out += f"public struct {m.name}: ProtoMessage {{\n"
    for f in m.fields:
        out += doc_lines(f.doc, "    ")
        default = " = []" if f.label == "repeated" else ""
        out += f"    public var {escape(camel(f.name))}: {swift_type(f, messages, enums)}{default}\n"
    out += "\n    public init() {}\n\n"
    if m.fields:
        params = ",\n".join(
            f"        {escape(camel(f.name))}: {swift_type(f, messages, enums)} = {'[]' if f.label == 'repeated' else 'nil'}"
            for f in m.fields
        )
        out += f"    public init(\n{params}\n    ) {{\n"
        for f in m.fields:
            p = camel(f.name)
            out += f"        self.{p} = {escape(p)}\n"
        out += "    }\n\n"
    out += f"    public static let protoName = \"accord.v1.{m.name}\"\n"
    out += "    public static let fieldNames: [String] = [" + ", ".join(f'"{f.name}"' for f in ordered) + "]\n"
    out += "}\n\n"
    out += f"extension {m.name}: JSONRepresentable {{\n"
    out += "    public var json: JSONValue {\n"
    if m.fields:
        out += "        var fields: [(String, JSONValue)] = []\n"
        for f in ordered:
            p = "self." + camel(f.name)
            if f.label == "repeated":
                out += f"        if !{p}.isEmpty {{ fields.append((\"{f.name}\", .array({p}.map {{ JSONValue.of($0) }}))) }}\n"
            else:
                out += f"        if let value = {p} {{ fields.append((\"{f.name}\", JSONValue.of(value))) }}\n"
        out += "        return .object(fields)\n"
    else:
        out += "        .object([])\n"
    out += "    }\n}\n\n"
    out += f"extension {m.name}: CBackedMessage {{\n"
    out += f"    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> {{ {c_function(m.name)}() }}\n"
    out += "    static let fieldNumbers: [UInt32] = [" + ", ".join(str(f.number) for f in ordered) + "]\n\n"
    out += "    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {\n"
    out += "        try ProtoCodec.withEncoded(self, body)\n    }\n\n"
    out += "    public init(serializedBytes bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(MessageDecodingError) {\n"
    out += "        self = try ProtoCodec.decode(Self.self, from: bytes, limits: limits)\n    }\n\n"
    if ordered:
        out += "    init(reading r: CMessageReader) {\n"
        for i, f in enumerate(ordered):
            out += f"        self.{camel(f.name)} = {read_expr(f, i, messages, enums)}\n"
        out += "    }\n\n"
        out += "    func write(to w: CMessageWriter) throws(MessageEncodingError) {\n"
        for i, f in enumerate(ordered):
            out += f"        {write_stmt(f, i, 'self.' + camel(f.name), messages, enums)}\n"
        out += "    }\n"
    else:
        out += "    init(reading r: CMessageReader) {}\n\n"
        out += "    func write(to w: CMessageWriter) throws(MessageEncodingError) {}\n"
    out += "}\n"
    return out


def gen_service(s):
    out = doc_lines(s.doc, "")
    out += f"public enum {s.name}Methods {{\n"
    out += f"    public static let serviceName = \"accord.v1.{s.name}\"\n"
    for meth in s.methods:
        kind = ".serverStreaming" if meth.streaming else ".unary"
        out += "\n" + doc_lines(meth.doc, "    ")
        out += (
            f"    public static let {escape(camel(snake_from_camel(meth.name)))} = RPCMethod<{meth.request}, {meth.response}>(\n"
            f"        path: \"/accord.v1.{s.name}/{meth.name}\",\n"
            f"        kind: {kind},\n"
            f"        isIdempotent: {'true' if meth.idempotent else 'false'}\n"
            "    )\n"
        )
    out += "\n    public static let allPaths: [String] = [\n"
    for meth in s.methods:
        out += f"        \"/accord.v1.{s.name}/{meth.name}\",\n"
    out += "    ]\n"
    out += "\n    /// Every method with its kind and idempotence, for code that routes by path.\n"
    out += "    public static let allMethods: [AnyRPCMethod] = [\n"
    for meth in s.methods:
        out += f"        AnyRPCMethod({escape(camel(snake_from_camel(meth.name)))}),\n"
    out += "    ]\n}\n"
    return out


HEADER = "// Generated by proto/gen_swift.py from {src}. Do not edit; run `make generate`.\n"


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    root, swift_out, c_out = sys.argv[1:]
    proto_dir = os.path.join(root, "accord", "v1")
    names = sorted(n for n in os.listdir(proto_dir) if n.endswith(".proto"))
    try:
        files = [parse(os.path.join(proto_dir, n), f"proto/accord/v1/{n}") for n in names]
        messages, enums = check(files)
    except ProtoError as error:
        print(f"gen_swift: {error}", file=sys.stderr)
        return 1
    os.makedirs(swift_out, exist_ok=True)
    os.makedirs(os.path.join(c_out, "include"), exist_ok=True)
    all_messages = []
    for pf in files:
        base = os.path.basename(pf.path)[: -len(".proto")]
        body = HEADER.format(src=pf.path) + "\ninternal import CAccordProto\n"
        for e in pf.enums:
            body += "\n" + gen_enum(e)
        for m in pf.messages:
            body += "\n" + gen_message(m, messages, enums)
            all_messages.append(m.name)
        for s in pf.services:
            body += "\n" + gen_service(s)
        with open(os.path.join(swift_out, f"{base}.pb.swift"), "w", encoding="utf-8") as f:
            f.write(body)
    registry = HEADER.format(src="proto/accord/v1/*.proto")
    registry += "\n/// Every message type of the schema, for tests and tools that walk them all.\n"
    registry += "enum MessageRegistry {\n    static let all: [any CBackedMessage.Type] = [\n"
    registry += "".join(f"        {n}.self,\n" for n in all_messages)
    registry += "    ]\n}\n"
    with open(os.path.join(swift_out, "MessageRegistry.pb.swift"), "w", encoding="utf-8") as f:
        f.write(registry)
    c_header = "/* Generated by proto/gen_swift.py. Do not edit; run `make generate`. */\n"
    h = c_header + "#ifndef ACCORD_DESCRIPTORS_H\n#define ACCORD_DESCRIPTORS_H\n\n#include <protobuf-c/protobuf-c.h>\n\n"
    c = c_header + '#include "accord_descriptors.h"\n'
    for pf in files:
        c += f'#include "accord/v1/{os.path.basename(pf.path)[:-len(".proto")]}.pb-c.h"\n'
    c += "\n"
    for n in all_messages:
        fn = c_function(n)
        h += f"const ProtobufCMessageDescriptor *{fn}(void);\n"
        c += f"const ProtobufCMessageDescriptor *{fn}(void) {{ return &accord__v1__{snake_from_camel(n)}__descriptor; }}\n"
    h += "\n#endif\n"
    with open(os.path.join(c_out, "include", "accord_descriptors.h"), "w", encoding="utf-8") as f:
        f.write(h)
    with open(os.path.join(c_out, "accord_descriptors.c"), "w", encoding="utf-8") as f:
        f.write(c)
    umbrella = c_header + "#ifndef C_ACCORD_PROTO_H\n#define C_ACCORD_PROTO_H\n\n#include <protobuf-c/protobuf-c.h>\n"
    umbrella += '#include "accord_descriptors.h"\n\n#endif\n'
    with open(os.path.join(c_out, "include", "CAccordProto.h"), "w", encoding="utf-8") as f:
        f.write(umbrella)
    return 0


if __name__ == "__main__":
    sys.exit(main())
