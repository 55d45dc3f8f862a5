#!/usr/bin/env python3
"""Turns the JSON lines of Tools/bench.sh into the tables of docs/PERFORMANCE.md."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

out, runs, seconds, doc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def lines(name):
    path = os.path.join(out, name)
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")] if os.path.exists(path) else []


def median_run(rows):
    ordered = sorted(rows, key=lambda r: r["throughput"])
    return ordered[len(ordered) // 2]


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


baseline = {}
for row in lines("baseline.jsonl"):
    baseline.setdefault((row["in_flight"], row["payload"]), []).append(row)
grpc = {}
for row in lines("grpc.jsonl"):
    grpc.setdefault((row["in_flight"], row["payload"]), []).append(row)
accord = {}
for row in lines("accord.jsonl"):
    accord.setdefault((row["concurrency"], row["payload"], row["compress"]), []).append(row)

swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
text = [
    "<!-- bench:start -->",
    f"Measured {datetime.date.today().isoformat()} by `make bench` (`Tools/bench.sh`): "
    f"{os.cpu_count()} cores, {cpu_model()}, {swift}, release build; server on core 0 and load on "
    f"core 1; {runs} runs of {seconds} s after a 1 s warm-up per row, the median run shown.",
    "",
    "### Unary echo over loopback, one connection",
    "",
    "| in flight | payload | compression | Accord calls/s (runs) | plain NIO frames/s | Accord / NIO | grpc-swift-2 calls/s (p99 µs) | Accord / grpc | p50 µs | p90 µs | p99 µs | p99.9 µs |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for (concurrency, payload, compress), rows in sorted(accord.items()):
    m = median_run(rows)
    base = baseline.get((concurrency, payload))
    base_tp = median_run(base)["throughput"] if base and not compress else None
    ratio = f"{100 * m['throughput'] / base_tp:.0f} %" if base_tp else "–"
    lat = m["latency_us"]
    runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
    base_text = format(base_tp, ",") if base_tp else "–"
    g = grpc.get((concurrency, payload))
    g_text, g_ratio = "–", "–"
    if g and not compress:
        gm = median_run(g)
        g_text = f"{gm['throughput']:,} ({gm['latency_us']['p99']})"
        g_ratio = f"{m['throughput'] / gm['throughput']:.1f}x" if gm["throughput"] else "–"
    text.append(
        f"| {concurrency} | {payload} B | {'zlib' if compress else 'off'} | **{m['throughput']:,}** "
        f"({runs_text}) | {base_text} | {ratio} | {g_text} | {g_ratio} "
        f"| {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['p999']} |"
    )

intake = {}
for row in lines("intake.jsonl"):
    intake.setdefault((row["scenario"], row["concurrency"]), []).append(row)
if intake:
    text += [
        "",
        "### Intake: durable writes, gets and lists (SQLite, WAL, every commit synced)",
        "",
        "`register` registers a new agency per call and `submit` submits a new participation request per call",
        "(each a durable write; concurrent ones share a group commit); `get` gets agencies by id; `list`",
        "pages 50 Texas agencies; over the seeded ICE lists.",
        "",
        "| scenario | clients | calls/s (runs) | p50 µs | p90 µs | p99 µs | p99.9 µs |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {"register": 0, "submit": 1, "get": 2, "list": 3}
    for (scenario, clients), rows in sorted(intake.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][1])):
        m = median_run(rows)
        lat = m["latency_us"]
        runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
        text.append(
            f"| {scenario} | {clients} | **{m['throughput']:,}** ({runs_text}) | {lat['p50']} | {lat['p90']} "
            f"| {lat['p99']} | {lat['p999']} |"
        )

qualification_all = lines("qualification.jsonl")
qualification = [r for r in qualification_all if r["scenario"] == "compliance"]
evaluations = {}
for row in qualification_all:
    if row["scenario"] == "evaluate":
        evaluations.setdefault(row["concurrency"], []).append(row)
if evaluations:
    text += [
        "",
        "### Qualification: evaluations (each one a durable write)",
        "",
        "| clients | calls/s (runs) | p50 µs | p90 µs | p99 µs | p99.9 µs |",
        "|---|---|---|---|---|---|",
    ]
    for clients, rows in sorted(evaluations.items()):
        m = median_run(rows)
        lat = m["latency_us"]
        runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
        text.append(f"| {clients} | **{m['throughput']:,}** ({runs_text}) | {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['p999']} |")
if qualification:
    m = median_run(qualification)
    lat = m["latency_us"]
    text += [
        "",
        "### Qualification: compliance of 10,000 certified officers",
        "",
        "One `GetCompliance` call computes every certified officer's recurring-training status as of a date",
        "and returns all 10,000 (one client, calls one after another): "
        f"p50 {lat['p50'] / 1000:.1f} ms, p99 {lat['p99'] / 1000:.1f} ms, {m['throughput']} calls/s "
        f"(runs: {' / '.join(str(r['throughput']) for r in qualification)} calls/s).",
    ]

actions = {}
for row in lines("supervision.jsonl"):
    actions.setdefault(row["concurrency"], []).append(row)
if actions:
    text += [
        "",
        "### Supervision: recorded delegated actions (each one a durable write with its audit entry)",
        "",
        "Each call records an action of one of 20,000 authorized officers under 1,000 agreements: it is",
        "checked against the agreement's status, the officer's authority and the model's functions at the",
        "moment performed, stored, and appended to the hash-chained audit trail.",
        "",
        "| clients | calls/s (runs) | p50 µs | p90 µs | p99 µs | p99.9 µs |",
        "|---|---|---|---|---|---|",
    ]
    for clients, rows in sorted(actions.items()):
        m = median_run(rows)
        lat = m["latency_us"]
        runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
        text.append(f"| {clients} | **{m['throughput']:,}** ({runs_text}) | {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['p999']} |")
reports = lines("supervision_report.jsonl")
report_rss = lines("supervision_rss.json")
if reports:
    m = median_run(reports)
    lat = m["latency_us"]
    memory = ""
    if report_rss:
        memory = (
            f" Peak resident memory of the service over the whole part: {report_rss[0]['rss_peak_kib'] / 1024:.0f} MiB;"
            f" database {report_rss[0]['database_bytes'] / 1048576:.0f} MiB."
        )
    report_runs = " / ".join("%.0f ms" % (r["latency_us"]["p50"] / 1000) for r in reports)
    text += [
        "",
        "### Supervision: program report over 1,000 agreements, 20,000 officers, 1,000,000 actions",
        "",
        "One `GetProgramReport` call (one client, calls one after another), the data seeded through the API first: "
        f"p50 {lat['p50'] / 1000:.0f} ms, p99 {lat['p99'] / 1000:.0f} ms "
        f"(runs, p50: {report_runs}).{memory}",
    ]

gateway = {}
for row in lines("gateway.jsonl"):
    scenario = f"echo {row['payload']} B" if row["scenario"] == "echo" else row["scenario"]
    gateway.setdefault((scenario, row["via"], row["concurrency"]), []).append(row)
if gateway:
    text += [
        "",
        "### Gateway: a routed call against the same call made directly, and the dossier fan-out",
        "",
        "Each call is made directly to intake, through HAProxy relaying the TCP connection to the same intake",
        "(`mode tcp`, `nbthread 1`, on the gateway's core: the anchor), through the same relay written in plain",
        "SwiftNIO (`nio-relay`, Benchmarks/Sources/NIORelayBaseline: the floor for a hop in SwiftNIO), and through the gateway, which",
        "authenticates the bearer token and forwards the message bytes to intake: `echo` (the protocol alone;",
        "through the gateway with `--echo-backend intake`) and `get` (an agency by id, over the seeded ICE lists).",
        "`dossier` asks the gateway for an agency's dossier, which it gathers from the three services in",
        "parallel (eight calls). The ratios compare medians: the gateway's against HAProxy's and against the",
        "direct call's.",
        "",
        "| scenario | via | clients | calls/s (runs) | / HAProxy | / direct | p50 µs | p90 µs | p99 µs | p99.9 µs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"echo 64 B": 0, "echo 1024 B": 1, "get": 2, "read": 2, "dossier": 3}
    vias = {"direct": 0, "haproxy": 1, "nio-relay": 2, "gateway": 3}

    def ratio(m, scenario, via, clients):
        anchor = gateway.get((scenario, via, clients))
        return f"{m['throughput'] / median_run(anchor)['throughput']:.2f} ×" if anchor else "–"

    for (scenario, via, clients), rows in sorted(
        gateway.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][2], vias.get(kv[0][1], 9))
    ):
        m = median_run(rows)
        lat = m["latency_us"]
        runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
        to_haproxy = ratio(m, scenario, "haproxy", clients) if via in ("gateway", "nio-relay") else "–"
        to_direct = ratio(m, scenario, "direct", clients) if via != "direct" else "–"
        text.append(
            f"| {scenario} | {via} | {clients} | **{m['throughput']:,}** ({runs_text}) | {to_haproxy} | {to_direct} "
            f"| {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['p999']} |"
        )

mixed = lines("mixed.jsonl")
mixed_rss = lines("mixed_rss.json")
if mixed:
    text += [
        "",
        "### Mixed traffic through the gateway (a day of the program, by weight)",
        "",
        "`accord-load mixed` picks each call by weight: agency gets 40, lists 10, dossiers 5, agency registrations 10,",
        "recorded delegated actions 35; over the ICE lists plus 10,000 generated agencies and 100,000 officers",
        "(certified in qualification, authorized in supervision under 1,000 agreements), all seeded through the API.",
        "Closed loop at 64 in flight finds the saturation point; the open loop then sends half of it on a schedule,",
        "latency measured from each call's scheduled time.",
        "",
        "| load | calls/s (runs) | p50 µs | p90 µs | p99 µs | p99.9 µs | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ["closed", "open"]:
        rows = [r for r in mixed if r.get("mode") == mode]
        if not rows:
            continue
        m = median_run(rows)
        lat = m["latency_us"]
        runs_text = " / ".join(format(r["throughput"], ",") for r in rows)
        label = "saturation: 64 in flight" if mode == "closed" else f"half: {int(m.get('rate', 0)):,} calls/s scheduled"
        text.append(
            f"| {label} | **{m['throughput']:,}** ({runs_text}) | {lat['p50']} | {lat['p90']} | {lat['p99']} | {lat['p999']} "
            f"| {m.get('error_count', 0)} |"
        )
    if mixed_rss:
        r = mixed_rss[0]
        text += [
            "",
            "Peak resident memory during the mixed runs (goal: under 200 MiB per service): "
            + ", ".join(f"{name} {r[name] / 1024:.0f} MiB" for name in ["intake", "qualification", "supervision", "gateway"])
            + ".",
        ]

idle = lines("idle.json")
rss = lines("idle_rss.json")
if idle and rss:
    i, r = idle[0], rss[0]
    per = (r["rss_peak_kib"] - r["rss_before_kib"]) / 10000
    text += [
        "",
        "### 10,000 idle connections",
        "",
        f"The server held {i['idle_connections']:,} idle connections while one more connection made echo calls "
        f"one at a time: {i['throughput']:,} calls/s, p50 {i['latency_us']['p50']} µs, p99 {i['latency_us']['p99']} µs, "
        f"{i.get('error_count', i['errors'])} errors. Server resident memory {r['rss_before_kib'] / 1024:.1f} MiB before, "
        f"{r['rss_peak_kib'] / 1024:.1f} MiB at peak: about **{per:.1f} KiB per connection**.",
    ]

micro = open(os.path.join(out, "micro.md")).read() if os.path.exists(os.path.join(out, "micro.md")) else ""
if "### " in micro:  # drop the tool's banner and host line; nest its headings under ours
    micro = micro[micro.index("### "):].replace("### ", "#### ")
micro = micro.strip()
text += ["", "### Micro-benchmarks (package-benchmark, Benchmarks/)", "", micro or "(not run)", "<!-- bench:end -->"]

# TLS beside clear: its own block, so that BENCH_ONLY=tls leaves the other tables as they are.
tls = {}
for row in lines("tls.jsonl"):
    tls.setdefault((row["payload"], row["via"], row["concurrency"], row["tls"]), []).append(row)
tls_text = []
if tls:
    tls_text = [
        "<!-- bench-tls:start -->",
        f"Measured {datetime.date.today().isoformat()} by `make bench` (`BENCH_ONLY=tls Tools/bench.sh BIN_DIR {runs} {seconds}` "
        f"for this block alone): {os.cpu_count()} cores, {cpu_model()}, {swift}, release build; servers on core 0, load on "
        f"core 1; {runs} runs of {seconds} s after a 1 s warm-up per row, the median run shown.",
        "",
        "### TLS 1.3 beside clear: echo directly to intake and through the gateway",
        "",
        "Two sets run side by side, each an intake behind a gateway: one in clear, one over TLS. On the TLS set",
        "the caller reaches the gateway over TLS, and the gateway reaches intake over mutual TLS; direct calls to",
        "intake present the tools' client certificate. Certificates are EC P-256 from `Tools/tls.sh`. The",
        "connections are opened before the warm-up, so the rows measure the record layer, not handshakes.",
        "",
        "| payload | via | in flight | clear calls/s (runs) | TLS calls/s (runs) | TLS / clear | p50 µs clear / TLS | p99 µs clear / TLS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for payload, via, clients in sorted({(k[0], k[1], k[2]) for k in tls}, key=lambda k: (k[0], k[2], k[1])):
        clear, secure = tls.get((payload, via, clients, False)), tls.get((payload, via, clients, True))
        if not clear or not secure:
            continue
        c, t = median_run(clear), median_run(secure)
        tls_text.append(
            f"| {payload} B | {via} | {clients} | {c['throughput']:,} ({' / '.join(format(r['throughput'], ',') for r in clear)}) "
            f"| **{t['throughput']:,}** ({' / '.join(format(r['throughput'], ',') for r in secure)}) "
            f"| {t['throughput'] / c['throughput']:.2f} × "
            f"| {c['latency_us']['p50']} / {t['latency_us']['p50']} | {c['latency_us']['p99']} / {t['latency_us']['p99']} |"
        )
    tls_text.append("<!-- bench-tls:end -->")

current = open(doc).read() if os.path.exists(doc) else "# Performance\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
if os.environ.get("BENCH_ONLY", "all") != "tls":
    start, end = current.index("<!-- bench:start -->"), current.index("<!-- bench:end -->") + len("<!-- bench:end -->")
    current = current[:start] + "\n".join(text) + current[end:]
if tls_text:
    if "<!-- bench-tls:start -->" in current:
        start = current.index("<!-- bench-tls:start -->")
        end = current.index("<!-- bench-tls:end -->") + len("<!-- bench-tls:end -->")
        current = current[:start] + "\n".join(tls_text) + current[end:]
    else:
        current = current.rstrip("\n") + "\n\n## Encryption in transit\n\n" + "\n".join(tls_text) + "\n"
open(doc, "w").write(current)
