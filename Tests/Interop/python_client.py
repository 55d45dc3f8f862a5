#!/usr/bin/env python3
"""A client of the Accord wire protocol written from docs/PROTOCOL.md alone, in another language.

Usage: python_client.py HOST PORT [--tls-ca CA.pem [--server-name NAME]] [--token TOKEN]
With --tls-ca it connects over TLS 1.3 with the ALPN name accord/1 (docs/PROTOCOL.md, section 1.1),
trusting that CA and checking the server's certificate against NAME (default HOST). With --token
every call carries it as "authorization: Bearer TOKEN", as the gateway asks.
Runs: a unary echo call with a deadline and metadata, an error status, a server-streaming call,
a ping, a cancel, two pipelined calls answered out of order, and a graceful GOAWAY.
Prints "N passed, 0 failed" and exits 0 when every check holds.
"""
import socket
import ssl
import struct
import sys
import zlib

HOST, PORT = sys.argv[1], int(sys.argv[2])
OPTIONS = dict(zip(sys.argv[3::2], sys.argv[4::2]))
TLS = None
if "--tls-ca" in OPTIONS:
    TLS = ssl.create_default_context(cafile=OPTIONS["--tls-ca"])
    TLS.minimum_version = ssl.TLSVersion.TLSv1_3
    TLS.set_alpn_protocols(["accord/1"])
checks = {"passed": 0, "failed": 0}


def check(name, condition):
    checks["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name)


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def echo_request(payload=b"", delay_ms=None, fail_code=None, fail_message=None, count=None):
    # accord.v1.EchoRequest: 1 bytes payload, 2 delay_ms, 3 fail_code, 4 fail_message, 5 count
    msg = b"\x0a" + varint(len(payload)) + payload
    if delay_ms is not None:
        msg += b"\x10" + varint(delay_ms)
    if fail_code is not None:
        msg += b"\x18" + varint(fail_code)
    if fail_message is not None:
        data = fail_message.encode()
        msg += b"\x22" + varint(len(data)) + data
    if count is not None:
        msg += b"\x28" + varint(count)
    return msg


def parse_fields(data):
    fields, i = {}, 0
    while i < len(data):
        key, shift = 0, 0
        while True:
            b = data[i]; i += 1
            key |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80:
                break
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, shift = 0, 0
            while True:
                b = data[i]; i += 1
                value |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
        elif wire == 2:
            length, shift = 0, 0
            while True:
                b = data[i]; i += 1
                length |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            value = data[i:i + length]; i += length
        else:
            raise ValueError("unexpected wire type %d" % wire)
        fields[number] = value
    return fields


class Connection:
    def __init__(self):
        self.sock = socket.create_connection((HOST, PORT), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if TLS is not None:
            self.sock = TLS.wrap_socket(self.sock, server_hostname=OPTIONS.get("--server-name", HOST))
            if self.sock.selected_alpn_protocol() != "accord/1":
                raise ConnectionError("the server did not select ALPN accord/1: %r" % self.sock.selected_alpn_protocol())
        self.buffer = b""
        # Preface: magic, version 1, role client, capabilities zlib, max message 4 MiB.
        self.sock.sendall(b"ACRD" + struct.pack(">BBHI", 1, 1, 1, 4 << 20))
        preface = self.read_exact(12)
        self.server_preface = preface
        self.next_id = 1

    def read_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_frame(self):
        length, ftype, flags, call_id = struct.unpack(">IBBI", self.read_exact(10))
        return ftype, flags, call_id, self.read_exact(length)

    def send_frame(self, ftype, flags, call_id, payload):
        self.sock.sendall(struct.pack(">IBBI", len(payload), ftype, flags, call_id) + payload)

    def start_call(self, method, message, timeout_ms=0, metadata=()):
        if "--token" in OPTIONS:
            metadata = tuple(metadata) + (("authorization", "Bearer " + OPTIONS["--token"]),)
        call_id = self.next_id
        self.next_id += 1
        m = method.encode()
        headers = struct.pack(">IH", timeout_ms, len(m)) + m + struct.pack(">H", len(metadata))
        for key, value in metadata:
            k, v = key.encode(), value.encode()
            headers += struct.pack(">B", len(k)) + k + struct.pack(">H", len(v)) + v
        frames = struct.pack(">IBBI", len(headers), 1, 0, call_id) + headers
        frames += struct.pack(">IBBI", len(message), 2, 0x02, call_id) + message
        self.sock.sendall(frames)
        return call_id


def parse_trailers(payload):
    code, mlen = struct.unpack(">BH", payload[:3])
    message = payload[3:3 + mlen].decode()
    (dlen,) = struct.unpack(">I", payload[3 + mlen:7 + mlen])
    return code, message, payload[7 + mlen:7 + mlen + dlen]


def collect(conn, ids):
    """Reads frames until every call in ids has its TRAILERS; returns {id: (messages, trailers)}."""
    results = {i: ([], None) for i in ids}
    while any(results[i][1] is None for i in ids):
        ftype, flags, call_id, payload = conn.read_frame()
        if call_id not in results:
            continue
        if ftype == 2:
            if flags & 0x01:
                payload = zlib.decompress(payload)
            results[call_id][0].append(payload)
        elif ftype == 3:
            results[call_id] = (results[call_id][0], parse_trailers(payload))
    return results


conn = Connection()
check("server preface has magic, version 1 and the server role",
      conn.server_preface[:4] == b"ACRD" and conn.server_preface[4] == 1 and conn.server_preface[5] == 2)

call = conn.start_call("/accord.v1.Echo/Unary", echo_request(b"hello"), 1000, [("trace-id", "py-1")])
messages, trailers = collect(conn, [call])[call]
check("unary echo returns the payload with status OK",
      trailers[0] == 0 and len(messages) == 1 and parse_fields(messages[0]).get(1) == b"hello")

call = conn.start_call("/accord.v1.Echo/Unary", echo_request(fail_code=5, fail_message="agency ag_9 not found"))
messages, trailers = collect(conn, [call])[call]
check("a failed call has TRAILERS only, with code 5 and the message",
      messages == [] and trailers[0] == 5 and trailers[1] == "agency ag_9 not found")

call = conn.start_call("/accord.v1.Echo/Stream", echo_request(b"s", count=3))
messages, trailers = collect(conn, [call])[call]
check("server streaming sends three messages, then OK",
      trailers[0] == 0 and [parse_fields(m).get(2, 0) for m in messages] == [0, 1, 2])

slow = conn.start_call("/accord.v1.Echo/Unary", echo_request(b"slow", delay_ms=300))
fast = conn.start_call("/accord.v1.Echo/Unary", echo_request(b"fast"))
order = []
while len(order) < 2:
    ftype, flags, call_id, payload = conn.read_frame()
    if ftype == 3:
        order.append(call_id)
check("pipelined calls finish independently (the fast one first)", order == [fast, slow])

call = conn.start_call("/accord.v1.Echo/Unary", echo_request(delay_ms=5000), timeout_ms=100)
messages, trailers = collect(conn, [call])[call]
check("a 100 ms deadline ends the call with DEADLINE_EXCEEDED (4)", trailers[0] == 4)

big = bytes(range(256)) * 64
call = conn.start_call("/accord.v1.Echo/Unary", echo_request(big))
messages, trailers = collect(conn, [call])[call]
check("a 16 KiB echo comes back (zlib-compressed as announced) intact",
      trailers[0] == 0 and parse_fields(messages[0]).get(1) == big)

conn.send_frame(5, 0, 0, b"12345678")
ftype, flags, call_id, payload = conn.read_frame()
check("PING is answered with PING ACK and the same bytes", (ftype, flags, payload) == (5, 1, b"12345678"))

call = conn.start_call("/accord.v1.Echo/Unary", echo_request(delay_ms=5000))
conn.send_frame(4, 0, call, b"")
after = conn.start_call("/accord.v1.Echo/Unary", echo_request(b"after"))
results = collect(conn, [after])
check("after CANCEL the connection goes on", results[after][1][0] == 0)

call = conn.start_call("/accord.v1.Nope/Missing", echo_request())
check("an unknown method is UNIMPLEMENTED (12)", collect(conn, [call])[call][1][0] == 12)

conn.send_frame(6, 0, 0, struct.pack(">IIH", 0, 0, 4) + b"done")
goaway, closed = None, False
try:
    while True:
        ftype, flags, call_id, payload = conn.read_frame()
        if ftype == 6:
            goaway = struct.unpack(">II", payload[:8])
except EOFError:
    closed = True
except OSError:
    pass
check("after the client's GOAWAY the server answers GOAWAY NO_ERROR and closes", closed and goaway is not None and goaway[1] == 0)

print("%d passed, %d failed" % (checks["passed"], checks["failed"]))
sys.exit(1 if checks["failed"] else 0)
