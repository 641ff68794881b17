#!/usr/bin/env python3
"""Validate the demo data set that tools/demo-data/generate.py writes.

    check.py                      generate into temporary folders and check everything (the ctest test)
    check.py --dir DIR [--start T] [--days N] [--scale S]
                                  check a folder generated earlier with those arguments

Without --dir it runs the generator twice with the default arguments and requires byte-identical
output, once with another seed and requires different output, once with unusual arguments
(short window, larger scale, a start off midnight), and checks each folder: every file a JSON
array of flat objects with one key set and one type per column, the expected columns, every
foreign key resolving, times ISO-8601 UTC inside the window, metrics on their sample grid,
threshold alerts matching the metric samples, incidents consistent with their events and
changes, only private or documentation IP addresses, row counts within bounds (default
arguments only), and that every table loads into SQLite and the README's example queries answer.
Prints the row counts; exits 1 naming every failure.
"""

import argparse
import datetime as dt
import ipaddress
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "generate.py"
DEFAULTS = dict(seed=42, start="2026-11-20T00:00:00Z", days=7, scale=1.0)

# table: column -> type; "?" marks a nullable column. "time" is an ISO-8601 UTC string.
SCHEMA = {
    "sites": dict(id="str", code="str", name="str", kind="str", provider="str", region="str", latitude="float",
                  longitude="float", timezone="str", public_prefix="str"),
    "teams": dict(id="str", name="str", email="str", slack_channel="str", oncall_name="str", oncall_email="str",
                  oncall_phone="str"),
    "servers": dict(id="str", hostname="str", site_id="str", environment="str", role="str", os="str",
                    cpu_cores="int", memory_gb="int", ip="str", status="str", owner_team_id="str", tags="str",
                    platform="str", model="str"),
    "applications": dict(id="str", name="str", name_ko="str", tier="str", owner_team_id="str", criticality="str",
                         language="str", description="str"),
    "app_instances": dict(id="str", application_id="str", server_id="str", port="int", version="str", status="str"),
    "databases": dict(id="str", name="str", engine="str", version="str", server_id="str", application_id="str",
                      role="str", primary_id="str?", port="int", size_gb="float"),
    "network_devices": dict(id="str", hostname="str", kind="str", role="str", vendor="str", model="str",
                            os_version="str", site_id="str", mgmt_ip="str", status="str", owner_team_id="str"),
    "links": dict(id="str", a_type="str", a_id="str", a_interface="str", b_type="str", b_id="str",
                  b_interface="str", bandwidth_mbps="int", kind="str", status="str"),
    "relations": dict(id="str", source_type="str", source_id="str", relation="str", target_type="str",
                      target_id="str"),
    "metrics": dict(ts="time", server_id="str", metric="str", value="float"),
    "events": dict(id="str", ts="time", source_type="str", source_id="str", severity="str", type="str",
                   message="str", metric="str?", value="float?", change_id="str?", incident_id="str?"),
    "changes": dict(id="str", kind="str", environment="str", application_id="str?", target_type="str",
                    target_id="str", summary="str", version_from="str?", version_to="str?", requested_by="str",
                    approved_by="str?", risk="str", status="str", started_at="time", finished_at="time"),
    "incidents": dict(id="str", title="str", severity="str", status="str", opened_at="time",
                      acknowledged_at="time", resolved_at="time?", ci_type="str", ci_id="str",
                      application_id="str", team_id="str", trigger_event_id="str", cause_change_id="str?",
                      resolution_change_id="str?", summary="str", root_cause="str"),
}
FOREIGN_KEYS = {
    "servers": dict(site_id="sites", owner_team_id="teams"),
    "applications": dict(owner_team_id="teams"),
    "app_instances": dict(application_id="applications", server_id="servers"),
    "databases": dict(server_id="servers", application_id="applications", primary_id="databases"),
    "network_devices": dict(site_id="sites", owner_team_id="teams"),
    "metrics": dict(server_id="servers"),
    "events": dict(change_id="changes", incident_id="incidents"),
    "changes": dict(application_id="applications"),
    "incidents": dict(application_id="applications", team_id="teams", trigger_event_id="events",
                      cause_change_id="changes", resolution_change_id="changes"),
}
# (type column, id column) pairs whose type names the table the id lives in
TYPED_KEYS = {
    "links": (("a_type", "a_id"), ("b_type", "b_id")),
    "relations": (("source_type", "source_id"), ("target_type", "target_id")),
    "events": (("source_type", "source_id"),),
    "changes": (("target_type", "target_id"),),
    "incidents": (("ci_type", "ci_id"),),
}
TYPE_TABLE = {"site": "sites", "team": "teams", "server": "servers", "application": "applications",
              "app_instance": "app_instances", "database": "databases", "network_device": "network_devices"}
ENUMS = {
    ("sites", "kind"): {"on_prem", "dr", "cloud"},
    ("servers", "environment"): {"prod", "staging", "dev"},
    ("servers", "status"): {"running", "standby", "maintenance", "stopped"},
    ("applications", "criticality"): {"critical", "high", "medium", "low"},
    ("app_instances", "status"): {"running", "standby", "stopped"},
    ("databases", "engine"): {"postgres", "mysql", "oracle", "redis"},
    ("databases", "role"): {"primary", "replica", "standby"},
    ("network_devices", "kind"): {"switch", "router", "firewall", "load_balancer"},
    ("links", "a_type"): {"server", "network_device"},
    ("links", "b_type"): {"server", "network_device"},
    ("relations", "relation"): {"runs_on", "depends_on", "connects_to", "member_of", "backed_by"},
    ("metrics", "metric"): {"cpu_pct", "mem_pct", "disk_pct", "net_in_mbps", "net_out_mbps"},
    ("events", "severity"): {"info", "warning", "critical"},
    ("events", "type"): {"threshold", "restart", "deploy", "config_change", "login_failure", "backup"},
    ("changes", "kind"): {"deploy", "config_change"},
    ("changes", "environment"): {"prod", "staging", "dev"},
    ("changes", "status"): {"completed", "failed", "rolled_back"},
    ("incidents", "status"): {"open", "resolved"},
}
# Row counts at the default arguments (scale 1, 7 days), with room for another seed.
BOUNDS = {"sites": (5, 5), "teams": (15, 15), "servers": (120, 180), "applications": (28, 28),
          "app_instances": (100, 160), "databases": (70, 100), "network_devices": (30, 45), "links": (160, 240),
          "relations": (600, 900), "metrics": (40000, 60000), "events": (200, 500), "changes": (25, 80),
          "incidents": (5, 5)}
# The README's example queries: each must load and return at least one row.
EXAMPLE_QUERIES = {
    "servers per site and environment": """
        SELECT s.name AS site, v.environment, count(*) AS servers
        FROM servers v JOIN sites s ON s.id = v.site_id GROUP BY 1, 2 ORDER BY 1, 2""",
    "CPU above 90% for three samples in a row (CEP rule shape)": """
        SELECT server_id, ts, value FROM (
          SELECT server_id, ts, value,
                 min(value) OVER (PARTITION BY server_id ORDER BY ts ROWS 2 PRECEDING) AS floor3
          FROM metrics WHERE metric = 'cpu_pct')
        WHERE floor3 > 90""",
    "hourly mean of a metric for a dashboard": """
        SELECT substr(m.ts, 1, 13) || ':00:00Z' AS hour, round(avg(m.value), 1) AS mem_pct
        FROM metrics m JOIN servers s ON s.id = m.server_id
        WHERE s.hostname = 'was-prd-seo-12' AND m.metric = 'mem_pct' GROUP BY 1 ORDER BY 1""",
    "what a database outage hits (impact, one hop up)": """
        SELECT a.name, a.criticality FROM relations r JOIN applications a ON a.id = r.source_id
        JOIN databases d ON d.id = r.target_id
        WHERE r.relation = 'backed_by' AND d.name = 'orderdb' AND d.role = 'primary'""",
    "incidents with their trigger and the change that caused them": """
        SELECT i.id, i.title, e.type, e.message, c.summary AS cause
        FROM incidents i JOIN events e ON e.id = i.trigger_event_id
        LEFT JOIN changes c ON c.id = i.cause_change_id ORDER BY i.opened_at""",
    "events of a server within an hour of a deploy": """
        SELECT c.summary, e.ts, e.severity, e.message FROM changes c
        JOIN app_instances n ON n.id = c.target_id AND c.target_type = 'app_instance'
        JOIN events e ON e.source_type = 'server' AND e.source_id = n.server_id
        WHERE e.ts BETWEEN c.started_at AND strftime('%Y-%m-%dT%H:%M:%SZ', c.started_at, '+1 hour')""",
}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
IPV4_RE = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
ALLOWED_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                      "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
JSON_TYPES = {"str": str, "int": int, "float": float, "time": str}
MAX_REPORTED = 5  # failures reported per check before the rest are only counted


def parse_time(text):
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


class Report:
    def __init__(self, label):
        self.label = label
        self.failures = []
        self.counts = Counter()

    def fail(self, check, message):
        self.counts[check] += 1
        if self.counts[check] <= MAX_REPORTED:
            self.failures.append(f"{self.label}: {message}")

    def summary(self):
        lines = list(self.failures)
        for check, n in sorted(self.counts.items()):
            if n > MAX_REPORTED:
                lines.append(f"{self.label}: ... and {n - MAX_REPORTED} more failures of '{check}'")
        return lines


def load(folder, report):
    tables = {}
    names = sorted(p.stem for p in folder.glob("*.json"))
    if names != sorted(SCHEMA):
        report.fail("files", f"tables {names}, expected {sorted(SCHEMA)}")
    for name in SCHEMA:
        path = folder / f"{name}.json"
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            report.fail("files", f"{path.name}: not readable JSON: {error}")
            continue
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            report.fail("files", f"{path.name}: not a JSON array of objects")
            continue
        tables[name] = rows
    return tables


def check_shape(tables, report):
    for name, rows in tables.items():
        schema = SCHEMA[name]
        if not rows:
            report.fail("shape", f"{name}: no rows")
            continue
        seen_types = defaultdict(set)
        for i, row in enumerate(rows):
            if set(row) != set(schema):
                report.fail("shape", f"{name} row {i}: keys {sorted(row)}, expected {sorted(schema)}")
                continue
            for column, value in row.items():
                if isinstance(value, (dict, list)):
                    report.fail("flat", f"{name} row {i}: {column} is nested")
                    continue
                if value is None:
                    if not schema[column].endswith("?"):
                        report.fail("null", f"{name} row {i}: {column} is null")
                    continue
                seen_types[column].add(type(value).__name__)
                wanted = JSON_TYPES[schema[column].rstrip("?")]
                if type(value) is not wanted:  # bool is not int here, and 1 is not 1.0
                    report.fail("type", f"{name} row {i}: {column}={value!r} is not {schema[column]}")
                if (name, column) in ENUMS and value not in ENUMS[(name, column)]:
                    report.fail("enum", f"{name} row {i}: {column}={value!r} not in {sorted(ENUMS[(name, column)])}")
        for column, types in seen_types.items():
            if len(types) > 1:
                report.fail("type", f"{name}.{column} mixes types {sorted(types)}")
        if "id" in schema:
            dupes = [k for k, n in Counter(r.get("id") for r in rows).items() if n > 1]
            if dupes:
                report.fail("ids", f"{name}: duplicate ids {dupes[:5]}")


def check_keys(tables, report):
    ids = {name: {r["id"] for r in rows if "id" in r} for name, rows in tables.items()}
    for name, columns in FOREIGN_KEYS.items():
        for row in tables.get(name, ()):
            for column, target in columns.items():
                value = row.get(column)
                if value is not None and value not in ids.get(target, ()):
                    report.fail("fk", f"{name} {row.get('id', row)}: {column}={value!r} not in {target}")
    for name, pairs in TYPED_KEYS.items():
        for row in tables.get(name, ()):
            for type_column, id_column in pairs:
                target = TYPE_TABLE.get(row.get(type_column))
                if target is None:
                    report.fail("fk", f"{name} {row.get('id')}: {type_column}={row.get(type_column)!r} is no CI type")
                elif row.get(id_column) not in ids.get(target, ()):
                    report.fail("fk", f"{name} {row.get('id')}: {id_column}={row.get(id_column)!r} not in {target}")


def check_times(tables, report, start, end):
    for name, rows in tables.items():
        for column in [c for c, t in SCHEMA[name].items() if t.startswith("time")]:
            for row in rows:
                value = row.get(column)
                if value is None:
                    continue
                if not isinstance(value, str) or not TIME_RE.match(value):
                    report.fail("time", f"{name} {row.get('id', '')}: {column}={value!r} is not ISO-8601 UTC")
                    continue
                if not start <= parse_time(value) < end:
                    report.fail("window", f"{name} {row.get('id', '')}: {column}={value} outside the window")


def check_addresses(tables, report):
    def allowed(text):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(address in net for net in ALLOWED_NETWORKS)

    for name, column in (("servers", "ip"), ("network_devices", "mgmt_ip")):
        values = [r.get(column) for r in tables.get(name, ())]
        for value in values:
            if not allowed(value):
                report.fail("ip", f"{name}.{column}={value!r} is not a private or RFC 5737 address")
        if len(set(values)) != len(values):
            report.fail("ip", f"{name}.{column} has duplicates")
    for site in tables.get("sites", ()):
        net = ipaddress.ip_network(site["public_prefix"])
        if not any(net.subnet_of(n) for n in ALLOWED_NETWORKS[3:]):
            report.fail("ip", f"sites.public_prefix={net} is not RFC 5737")
    for name, rows in tables.items():
        for row in rows:
            for value in row.values():
                if isinstance(value, str):
                    for found in IPV4_RE.findall(value):
                        if not allowed(found):
                            report.fail("ip", f"{name} {row.get('id', '')}: address {found} in {value!r}")
    hostnames = [r["hostname"] for r in tables.get("servers", ()) + tables.get("network_devices", [])]
    if len(set(hostnames)) != len(hostnames):
        report.fail("hostname", "duplicate hostnames")


def check_metrics(tables, report, start):
    samples = {}
    per_series = Counter()
    for row in tables.get("metrics", ()):
        key = (row["server_id"], row["metric"], row["ts"])
        if key in samples:
            report.fail("metrics", f"duplicate sample {key}")
        samples[key] = row["value"]
        per_series[(row["server_id"], row["metric"])] += 1
        offset = (parse_time(row["ts"]) - start).total_seconds()
        if offset % 300:
            report.fail("metrics", f"sample {key} is off the 5-minute grid")
        if row["metric"].endswith("_pct") and not 0 <= row["value"] <= 100:
            report.fail("metrics", f"sample {key} = {row['value']} is no percentage")
        if row["value"] < 0:
            report.fail("metrics", f"sample {key} = {row['value']} is negative")
    servers = {s for s, _ in per_series}
    for server in servers:
        counts = {per_series[(server, m)] for m in ENUMS[("metrics", "metric")]}
        if len(counts) != 1:
            report.fail("metrics", f"server {server}: metrics have different sample counts {sorted(counts)}")
    return samples


def check_timeline(tables, report, samples):
    events = {e["id"]: e for e in tables.get("events", ())}
    changes = {c["id"]: c for c in tables.get("changes", ())}
    by_incident = defaultdict(list)
    by_change = defaultdict(list)
    for e in events.values():
        if e["type"] == "threshold":
            if e["metric"] is None or e["value"] is None or e["source_type"] != "server":
                report.fail("events", f"{e['id']}: threshold event without server, metric or value")
            elif samples.get((e["source_id"], e["metric"], e["ts"])) != e["value"]:
                report.fail("events", f"{e['id']}: {e['metric']}={e['value']} at {e['ts']} is not a metric sample")
        elif e["metric"] is not None or e["value"] is not None:
            report.fail("events", f"{e['id']}: {e['type']} event with a metric")
        if e["incident_id"]:
            by_incident[e["incident_id"]].append(e)
        if e["change_id"]:
            by_change[e["change_id"]].append(e)
            if e["type"] != changes.get(e["change_id"], {}).get("kind"):
                report.fail("events", f"{e['id']}: type {e['type']} differs from its change's kind")
    for c in changes.values():
        if c["started_at"] > c["finished_at"]:
            report.fail("changes", f"{c['id']}: finishes before it starts")
        deploy = c["kind"] == "deploy"
        if deploy != (c["version_from"] is not None and c["version_to"] is not None):
            report.fail("changes", f"{c['id']}: versions must be set for deploys and only for them")
        if len(by_change[c["id"]]) != 1 or by_change[c["id"]][0]["ts"] != c["finished_at"]:
            report.fail("changes", f"{c['id']}: needs exactly one event, at finished_at")
    for i in tables.get("incidents", ()):
        trigger = events.get(i["trigger_event_id"])
        if trigger and (trigger["ts"] != i["opened_at"] or trigger["incident_id"] != i["id"]):
            report.fail("incidents", f"{i['id']}: trigger event is not at opened_at or not linked back")
        if not i["opened_at"] <= i["acknowledged_at"] <= (i["resolved_at"] or "9999"):
            report.fail("incidents", f"{i['id']}: opened, acknowledged, resolved out of order")
        if (i["status"] == "resolved") != (i["resolved_at"] is not None):
            report.fail("incidents", f"{i['id']}: status {i['status']} with resolved_at {i['resolved_at']}")
        if len(by_incident[i["id"]]) < 2:
            report.fail("incidents", f"{i['id']}: fewer than two events linked")
        if any(e["ts"] > (i["resolved_at"] or "9999") for e in by_incident[i["id"]]):
            report.fail("incidents", f"{i['id']}: linked events after resolution")
        cause, fix = changes.get(i["cause_change_id"]), changes.get(i["resolution_change_id"])
        if cause and cause["started_at"] > i["opened_at"]:
            report.fail("incidents", f"{i['id']}: the cause starts after the incident opened")
        if fix and i["resolved_at"] and fix["started_at"] > i["resolved_at"]:
            report.fail("incidents", f"{i['id']}: the resolution starts after the incident was resolved")


def check_sqlite(tables, report, run_examples):
    """Load every table the way the json-file connector does and run the README's queries."""
    db = sqlite3.connect(":memory:")
    try:
        for name, rows in tables.items():
            columns = list(SCHEMA[name])
            db.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
            db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(columns))})',
                           [[row.get(c) for c in columns] for row in rows])
        for title, sql in EXAMPLE_QUERIES.items() if run_examples else ():
            if not db.execute(sql).fetchall():
                report.fail("sqlite", f"example query '{title}' returned no rows")
    except sqlite3.Error as error:
        report.fail("sqlite", f"SQLite: {error}")
    finally:
        db.close()


def check_folder(folder, label, start, days, bounds):
    report = Report(label)
    tables = load(folder, report)
    end = start + dt.timedelta(days=days)
    check_shape(tables, report)
    if not report.failures:  # the semantic checks assume the shape
        check_keys(tables, report)
        check_times(tables, report, start, end)
        check_addresses(tables, report)
        samples = check_metrics(tables, report, start)
        check_timeline(tables, report, samples)
        check_sqlite(tables, report, run_examples=bounds)
    if bounds:
        for name, (low, high) in BOUNDS.items():
            n = len(tables.get(name, ()))
            if not low <= n <= high:
                report.fail("rows", f"{name}: {n} rows, expected {low}..{high}")
    return tables, report


def generate(out, **args):
    command = [sys.executable, str(GENERATOR), "--out", str(out)]
    for key, value in args.items():
        command += [f"--{key}", str(value)]
    began = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"check.py: {' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return time.monotonic() - began


def same_files(a, b):
    names = sorted(p.name for p in a.glob("*.json"))
    if names != sorted(p.name for p in b.glob("*.json")):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def print_counts(folder, tables, seconds=None):
    total_rows = total_bytes = 0
    print(f"{'table':<16} {'rows':>8} {'bytes':>10}")
    for name in SCHEMA:
        size = (folder / f"{name}.json").stat().st_size if (folder / f"{name}.json").exists() else 0
        rows = len(tables.get(name, ()))
        total_rows, total_bytes = total_rows + rows, total_bytes + size
        print(f"{name:<16} {rows:>8} {size:>10}")
    print(f"{'total':<16} {total_rows:>8} {total_bytes:>10}")
    if seconds is not None:
        print(f"generated in {seconds:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="check this folder instead of generating")
    parser.add_argument("--start", default=DEFAULTS["start"], help="--start it was generated with")
    parser.add_argument("--days", type=int, default=DEFAULTS["days"], help="--days it was generated with")
    parser.add_argument("--scale", type=float, default=DEFAULTS["scale"], help="--scale it was generated with")
    args = parser.parse_args()

    failures = []
    if args.dir:
        defaults = args.start == DEFAULTS["start"] and args.days == DEFAULTS["days"] and args.scale == 1.0
        tables, report = check_folder(args.dir, str(args.dir), parse_time(args.start), args.days, defaults)
        print_counts(args.dir, tables)
        failures += report.summary()
    else:
        with tempfile.TemporaryDirectory(prefix="plexus-demo-data-") as tmp:
            tmp = Path(tmp)
            seconds = generate(tmp / "a")
            generate(tmp / "b")
            generate(tmp / "c", seed=43)
            odd = dict(seed=7, start="2026-03-01T06:30:00Z", days=3, scale=2)
            generate(tmp / "d", **odd)
            if not same_files(tmp / "a", tmp / "b"):
                failures.append("two runs with the same arguments differ")
            if same_files(tmp / "a", tmp / "c"):
                failures.append("--seed 43 gives the same output as --seed 42")
            start = parse_time(DEFAULTS["start"])
            tables, report = check_folder(tmp / "a", "default arguments", start, DEFAULTS["days"], True)
            failures += report.summary()
            failures += check_folder(tmp / "c", "--seed 43", start, DEFAULTS["days"], True)[1].summary()
            failures += check_folder(tmp / "d", " ".join(f"--{k} {v}" for k, v in odd.items()),
                                     parse_time(odd["start"]), odd["days"], False)[1].summary()
            print_counts(tmp / "a", tables, seconds)
    if failures:
        print(f"\ncheck.py: {len(failures)} failure(s):", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("check.py: demo data OK" + ("" if args.dir else " (deterministic, seed-dependent, all checks passed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
