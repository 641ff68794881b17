#!/usr/bin/env python3
"""Generate the Plexus demo data set: a fictional operations estate as JSON tables.

    generate.py --out DIR [--seed 42] [--start 2026-11-20T00:00:00Z] [--days 7] [--scale 1]

Writes DIR/<table>.json for every table in TABLES, each a JSON array of flat objects with
the same keys, which the json-file connector loads as tables of an in-memory SQLite
database. The same arguments give byte-identical files: every random choice comes from
random.Random seeded with --seed and a purpose, and the clock is never read.

Names, ids and the planted incidents depend only on --start, --days and --scale; the seed
varies attributes, noise and background activity. tools/demo-data/README.md describes
every table, column and planted incident; tools/demo-data/check.py validates the output.
"""

import argparse
import datetime as dt
import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

TABLES = ("sites", "teams", "servers", "applications", "app_instances", "databases", "network_devices",
          "links", "relations", "metrics", "events", "changes", "incidents")

KST = dt.timedelta(hours=9)  # the estate lives in Korea: daily cycles and work hours follow KST
MINUTE = dt.timedelta(minutes=1)
FINE = dt.timedelta(minutes=5)     # sample interval of the servers in the planted incidents
COARSE = dt.timedelta(minutes=15)  # sample interval of the other monitored servers
METRICS = ("cpu_pct", "mem_pct", "disk_pct", "net_in_mbps", "net_out_mbps")
THRESHOLDS = {"cpu_pct": (85.0, 95.0), "mem_pct": (85.0, 95.0), "disk_pct": (85.0, 95.0)}  # warning, critical
HYSTERESIS = 5.0  # an alert recovers once the value is this far below the warning threshold
OOM_PCT = 97.5    # the leaking JVM is killed once memory reaches this
DOMAIN = "hanul.example"  # the fictional company, Hanul Retail (RFC 2606 name)

# code: name, kind, provider, region, latitude, longitude, second octet of its 10/8 addresses,
# public prefix (RFC 5737 documentation ranges only)
SITES = {
    "seo": ("Seoul-DC1", "on_prem", "Hanul", "Seoul", 37.4781, 126.8819, 10, "203.0.113.0/27"),
    "bsn": ("Busan-DC2", "on_prem", "Hanul", "Busan", 35.1689, 129.136, 20, "203.0.113.32/27"),
    "djn": ("Daejeon-DR", "dr", "Hanul", "Daejeon", 36.3741, 127.3604, 30, "203.0.113.64/27"),
    "aws": ("aws-ap-northeast-2", "cloud", "AWS", "ap-northeast-2", 37.5326, 127.0246, 100, "198.51.100.0/26"),
    "azr": ("azure-koreacentral", "cloud", "Azure", "koreacentral", 37.5665, 126.978, 110, "198.51.100.64/26"),
}
NONPROD_SITE = {"seo": "seo", "bsn": "seo", "djn": "seo", "aws": "aws", "azr": "azr"}

TEAMS = (
    ("platform", "Platform Engineering"), ("sre", "Site Reliability Engineering"), ("dba", "Database Operations"),
    ("network", "Network Operations"), ("security", "Security Operations"), ("commerce", "Commerce Core"),
    ("payments", "Payments"), ("logistics", "Logistics Systems"), ("marketing", "Marketing Tech"),
    ("search", "Search"), ("data", "Data & ML"), ("mobile", "Mobile Apps"), ("backoffice", "Back Office Systems"),
    ("it", "Corporate IT"), ("cs", "Customer Service Tech"),
)
SURNAMES = ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo",
            "Shin", "Kwon", "Hwang", "Ahn", "Song", "Yoo", "Hong")
GIVEN_NAMES = ("Minjun", "Seoyeon", "Jihoon", "Yuna", "Hyunwoo", "Jiwoo", "Eunji", "Taeyang", "Soyeon", "Dohyun",
               "Yerin", "Sungmin", "Hana", "Jaewon", "Minseo", "Junho", "Sujin", "Donghyun", "Haeun", "Seojun",
               "Chaewon", "Woojin", "Nayeon", "Kyungsoo")


def app(name, name_ko, tier, team, criticality, language, prod, dbs=(), deps=(), nonprod=True, description=""):
    """One application of the catalog; prod lists (site, server role, servers at scale 1)."""
    return dict(name=name, name_ko=name_ko, tier=tier, team=team, criticality=criticality, language=language,
                prod=prod, dbs=dbs, deps=deps, nonprod=nonprod, description=description)


APPS = (
    app("storefront-web", "쇼핑몰 웹", "frontend", "commerce", "critical", "node",
        [("seo", "web", 3), ("bsn", "web", 2), ("djn", "web", 1)], deps=["api-gateway"],
        description="Customer web shop, server-side rendered"),
    app("mobile-bff", "모바일 BFF", "frontend", "mobile", "critical", "node", [("aws", "web", 3)],
        dbs=[("mobilecache", "redis")], deps=["api-gateway"], description="Backend for the iOS and Android apps"),
    app("admin-console", "관리자 콘솔", "frontend", "backoffice", "medium", "node", [("seo", "web", 1)],
        deps=["api-gateway", "auth-service"], description="Merchandiser and operator back office"),
    app("api-gateway", "API 게이트웨이", "platform", "platform", "critical", "go",
        [("seo", "was", 2), ("bsn", "was", 2), ("aws", "was", 2), ("djn", "was", 1)], dbs=[("ratelimit", "redis")],
        deps=["auth-service", "member-api", "product-api", "search-api", "order-api", "review-api", "recommend-api",
              "coupon-api", "point-api", "shipping-api"],
        description="Edge API gateway: routing, rate limits, token checks"),
    app("auth-service", "인증 서비스", "backend", "platform", "critical", "go",
        [("seo", "was", 2), ("bsn", "was", 1), ("djn", "was", 1)], dbs=[("authdb", "postgres"), ("session", "redis")],
        description="Login, tokens and sessions for customers and staff"),
    app("member-api", "회원 API", "backend", "commerce", "critical", "java",
        [("seo", "was", 2), ("bsn", "was", 1), ("djn", "was", 1)], dbs=[("memberdb", "mysql")],
        deps=["auth-service", "notification-service"], description="Customer accounts, addresses, consents"),
    app("product-api", "상품 API", "backend", "commerce", "high", "java", [("seo", "was", 2), ("bsn", "was", 1)],
        dbs=[("productdb", "mysql"), ("productcache", "redis")], deps=["search-api"],
        description="Product catalog, prices and stock display"),
    app("search-api", "검색 API", "backend", "search", "high", "java", [("aws", "was", 3)],
        description="Product search and autocomplete"),
    app("order-api", "주문 API", "backend", "commerce", "critical", "java",
        [("seo", "was", 3), ("bsn", "was", 2), ("djn", "was", 1)], dbs=[("orderdb", "postgres")],
        deps=["product-api", "payment-api", "inventory-api", "coupon-api", "point-api", "notification-service"],
        description="Cart checkout and order lifecycle"),
    app("payment-api", "결제 API", "backend", "payments", "critical", "java",
        [("seo", "was", 2), ("bsn", "was", 2), ("djn", "was", 1)], dbs=[("paydb", "oracle")], deps=["pg-gateway"],
        description="Payments, refunds and payment methods"),
    app("pg-gateway", "PG 연동", "backend", "payments", "critical", "java", [("seo", "was", 1), ("bsn", "was", 1)],
        description="Adapter to the external payment gateways (cards, bank transfer, easy pay)"),
    app("inventory-api", "재고 API", "backend", "logistics", "high", "go", [("seo", "was", 2)],
        dbs=[("inventorydb", "postgres"), ("stockcache", "redis")], description="Warehouse stock and reservations"),
    app("shipping-api", "배송 API", "backend", "logistics", "high", "java", [("bsn", "was", 2)],
        dbs=[("shippingdb", "postgres")], deps=["notification-service"],
        description="Shipments, couriers and delivery tracking"),
    app("coupon-api", "쿠폰 API", "backend", "marketing", "medium", "java", [("seo", "was", 1)],
        dbs=[("coupondb", "mysql")], description="Coupons and promotions"),
    app("point-api", "포인트 API", "backend", "marketing", "medium", "java", [("seo", "was", 1)],
        dbs=[("pointdb", "mysql")], deps=["member-api"], description="Loyalty points"),
    app("review-api", "리뷰 API", "backend", "commerce", "low", "python", [("aws", "was", 1)],
        dbs=[("reviewdb", "mysql")], deps=["member-api", "product-api"], description="Product reviews and ratings"),
    app("recommend-api", "추천 API", "backend", "data", "medium", "python", [("aws", "was", 2)],
        dbs=[("recocache", "redis")], deps=["product-api"], description="Personalised recommendations"),
    app("notification-service", "알림 서비스", "backend", "platform", "high", "go", [("seo", "was", 2)],
        dbs=[("notifyqueue", "redis")], description="Push, SMS, e-mail and KakaoTalk-style messages"),
    app("settlement-batch", "정산 배치", "batch", "payments", "high", "java", [("seo", "bat", 1)],
        dbs=[("settledb", "postgres")], deps=["payment-api", "order-api"],
        description="Nightly settlement with sellers and payment gateways"),
    app("data-pipeline", "데이터 파이프라인", "data", "data", "medium", "python", [("aws", "bat", 2)],
        dbs=[("dw", "postgres")], deps=["order-api", "member-api"], description="Loads the data warehouse"),
    app("erp-interface", "ERP 연동", "batch", "backoffice", "medium", "java", [("seo", "bat", 1)],
        dbs=[("erpdb", "oracle")], deps=["settlement-batch"], description="Posts settlements to the ERP"),
    app("groupware", "그룹웨어", "internal", "it", "low", "java", [("seo", "was", 1)], dbs=[("gwdb", "mysql")],
        deps=["auth-service"], description="Staff mail, approvals and calendar"),
    app("hr-portal", "인사 포털", "internal", "it", "low", "java", [("seo", "was", 1)], dbs=[("hrdb", "oracle")],
        deps=["auth-service"], description="HR self-service"),
    app("cs-chatbot", "상담 챗봇", "backend", "cs", "medium", "python", [("azr", "was", 2)],
        dbs=[("chatdb", "postgres")], deps=["order-api", "member-api", "shipping-api"],
        description="Customer service chatbot"),
    app("bastion", "접근 통제", "platform", "security", "high", "go", [("seo", "bastion", 1), ("bsn", "bastion", 1)],
        nonprod=False, description="SSH jump hosts with session recording"),
    app("monitoring", "통합 모니터링", "platform", "sre", "high", "go", [("seo", "mon", 2)], dbs=[("tsdb", "postgres")],
        nonprod=False, description="Metric collection and alerting"),
    app("log-collector", "로그 수집", "platform", "sre", "medium", "go", [("seo", "log", 2), ("bsn", "log", 1)],
        nonprod=False, description="Central log shipping and retention"),
    app("ci-cd", "배포 파이프라인", "platform", "platform", "medium", "java", [("seo", "ci", 1)], nonprod=False,
        description="Build and deployment pipelines"),
)
APP_BY_NAME = {a["name"]: a for a in APPS}
LANG_PORT = {"java": 8080, "go": 9000, "node": 3000, "python": 8000}

ENV_CODE = {"prod": "prd", "staging": "stg", "dev": "dev"}
ENV_BLOCK = {"prod": 16, "staging": 32, "dev": 40, "mgmt": 250}  # third octet where each range starts
ENGINE_PORT = {"postgres": 5432, "mysql": 3306, "oracle": 1521, "redis": 6379}
ENGINE_VERSIONS = {"postgres": ("14.11", "15.6", "16.2"), "mysql": ("5.7.44", "8.0.36"),
                   "oracle": ("19.21.0", "19.22.0"), "redis": ("6.2.14", "7.2.4")}
DB_SIZE_GB = {"orderdb": 1800, "paydb": 1200, "dw": 6400, "productdb": 420, "memberdb": 380, "settledb": 900,
              "erpdb": 750, "shippingdb": 310, "inventorydb": 160, "authdb": 40, "coupondb": 60, "pointdb": 85,
              "reviewdb": 140, "gwdb": 520, "hrdb": 95, "chatdb": 35, "tsdb": 680}

VM_SPECS = {"web": ((4, 8), (8, 16)), "was": ((8, 16), (16, 32, 64)), "bat": ((8, 16), (32, 64)),
            "cache": ((8,), (32, 64)), "bastion": ((2,), (4,)), "mon": ((8,), (32,)), "log": ((8, 16), (32,)),
            "ci": ((8,), (16,))}
CLOUD_TYPES = {
    "aws": {"web": ("c6i.xlarge", "c6i.2xlarge"), "was": ("m6i.2xlarge", "m6i.4xlarge"), "bat": ("r6i.2xlarge",),
            "db": ("r6i.4xlarge", "r6i.8xlarge"), "cache": ("r6g.2xlarge",)},
    "azr": {"web": ("Standard_D4s_v5",), "was": ("Standard_D8s_v5",), "bat": ("Standard_E8s_v5",),
            "db": ("Standard_E16s_v5",), "cache": ("Standard_E8s_v5",)},
}
CLOUD_SIZES = {"c6i.xlarge": (4, 8), "c6i.2xlarge": (8, 16), "m6i.2xlarge": (8, 32), "m6i.4xlarge": (16, 64),
               "r6i.2xlarge": (8, 64), "r6i.4xlarge": (16, 128), "r6i.8xlarge": (32, 256), "r6g.2xlarge": (8, 64),
               "Standard_D4s_v5": (4, 16), "Standard_D8s_v5": (8, 32), "Standard_E8s_v5": (8, 64),
               "Standard_E16s_v5": (16, 128)}

# (site, device role): vendor, model, OS version, interface prefix
DEVICE_MODELS = {
    ("seo", "edge"): ("Cisco", "ASR 1002-HX", "IOS XE 17.9.4a", "Te0/0/"),
    ("seo", "perimeter"): ("Palo Alto Networks", "PA-5220", "PAN-OS 10.2.7", "ethernet1/"),
    ("seo", "core"): ("Arista", "7280R3", "EOS 4.30.2F", "Ethernet"),
    ("seo", "access"): ("Arista", "7050SX3-48YC8", "EOS 4.30.2F", "Ethernet"),
    ("seo", "app_delivery"): ("F5", "BIG-IP i7800", "TMOS 16.1.4", "1."),
    ("bsn", "edge"): ("Juniper", "MX204", "Junos 22.4R3", "xe-0/0/"),
    ("bsn", "perimeter"): ("Fortinet", "FortiGate 1800F", "FortiOS 7.2.8", "port"),
    ("bsn", "core"): ("Cisco", "Nexus 9336C-FX2", "NX-OS 10.3(4a)", "Ethernet1/"),
    ("bsn", "access"): ("Cisco", "Nexus 93180YC-FX3", "NX-OS 10.3(4a)", "Ethernet1/"),
    ("bsn", "app_delivery"): ("F5", "BIG-IP i5800", "TMOS 16.1.4", "1."),
    ("djn", "edge"): ("Cisco", "ASR 1001-X", "IOS XE 17.6.6a", "Te0/0/"),
    ("djn", "perimeter"): ("Fortinet", "FortiGate 600E", "FortiOS 7.2.8", "port"),
    ("djn", "core"): ("Cisco", "Nexus 9336C-FX2", "NX-OS 10.3(4a)", "Ethernet1/"),
    ("djn", "access"): ("Cisco", "Nexus 93180YC-FX3", "NX-OS 10.3(4a)", "Ethernet1/"),
    ("djn", "app_delivery"): ("F5", "BIG-IP i4800", "TMOS 16.1.4", "1."),
    ("aws", "edge"): ("AWS", "Transit Gateway", "managed", "attach-"),
    ("aws", "perimeter"): ("AWS", "Network Firewall", "managed", "attach-"),
    ("aws", "app_delivery"): ("AWS", "Application Load Balancer", "managed", "target-"),
    ("azr", "edge"): ("Microsoft", "Virtual WAN Hub", "managed", "conn-"),
    ("azr", "perimeter"): ("Microsoft", "Azure Firewall Premium", "managed", "conn-"),
    ("azr", "app_delivery"): ("Microsoft", "Application Gateway v2", "managed", "backend-"),
}
DEVICE_KIND = {"edge": "router", "perimeter": "firewall", "core": "switch", "access": "switch",
               "app_delivery": "load_balancer"}
DEVICE_PREFIX = {("on_prem", "edge"): "rtr", ("on_prem", "perimeter"): "fw", ("on_prem", "core"): "core",
                 ("on_prem", "access"): "tor", ("on_prem", "app_delivery"): "lb",
                 ("aws", "edge"): "tgw", ("aws", "perimeter"): "nfw", ("aws", "app_delivery"): "alb",
                 ("azr", "edge"): "vhub", ("azr", "perimeter"): "afw", ("azr", "app_delivery"): "agw"}
SERVERS_PER_TOR = 16

# Load profile per server role: cpu (base, daily amplitude), mem (base, amplitude), disk base,
# net in and out in Mbit/s (base, amplitude), cpu added in the nightly batch/backup window.
PROFILES = {
    "web": dict(cpu=(8, 38), mem=(42, 6), disk=35, net_in=(5, 120), net_out=(10, 420), night=0),
    "was": dict(cpu=(10, 42), mem=(55, 8), disk=40, net_in=(4, 90), net_out=(6, 160), night=0),
    "db": dict(cpu=(8, 30), mem=(76, 3), disk=58, net_in=(10, 60), net_out=(20, 220), night=18),
    "cache": dict(cpu=(4, 18), mem=(64, 4), disk=22, net_in=(20, 180), net_out=(30, 340), night=0),
    "bat": dict(cpu=(3, 4), mem=(28, 2), disk=45, net_in=(1, 5), net_out=(1, 5), night=62),
    "bastion": dict(cpu=(2, 4), mem=(22, 2), disk=28, net_in=(0.2, 2), net_out=(0.2, 3), night=0),
    "mon": dict(cpu=(25, 8), mem=(62, 3), disk=55, net_in=(80, 60), net_out=(5, 10), night=0),
    "log": dict(cpu=(20, 10), mem=(58, 4), disk=62, net_in=(60, 120), net_out=(3, 6), night=0),
    "ci": dict(cpu=(5, 20), mem=(35, 10), disk=50, net_in=(2, 20), net_out=(2, 20), night=0),
}
# Share of peak traffic by KST hour (a Korean online shop: lunch and late-evening peaks).
TRAFFIC = ((0, 0.45), (2, 0.25), (4, 0.1), (6, 0.12), (8, 0.35), (10, 0.6), (12, 0.85), (13, 0.8), (15, 0.7),
           (18, 0.65), (20, 0.9), (22, 1.0), (24, 0.45))

SSH_USERS = ("root", "admin", "oracle", "test", "deploy", "ubuntu", "guest", "postgres", "ftpuser", "user")
FEATURE_FLAGS = ("new-checkout-flow", "kakao-login", "dawn-delivery-slot", "dark-mode", "coupon-stacking",
                 "fast-refund", "ai-review-summary", "same-day-delivery")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO-8601 UTC time like 2026-11-20T00:00:00Z")


def bump(version, part):
    major, minor, patch = (int(x) for x in version.split("."))
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def version_key(version):
    return tuple(int(x) for x in version.split("."))


def traffic(t):
    """Share of peak user traffic at UTC time t."""
    local = t + KST
    hour = local.hour + local.minute / 60
    for (h0, v0), (h1, v1) in zip(TRAFFIC, TRAFFIC[1:]):
        if h0 <= hour <= h1:
            share = v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
            break
    return share * (0.85 if local.weekday() >= 5 else 1.0)


def night_window(t):
    """1 inside the 01:00-04:00 KST batch and backup window, ramping over 20 minutes at both ends."""
    local = t + KST
    hour = local.hour + local.minute / 60
    return max(0.0, min(1.0, (hour - 1) * 3, (4 - hour) * 3))


class Estate:
    def __init__(self, seed, start, days, scale):
        self.seed, self.start, self.days, self.scale = seed, start, days, scale
        self.window = dt.timedelta(days=days)
        self.end = start + self.window
        self.t = {name: [] for name in TABLES}
        self.counters = defaultdict(int)
        self.server_apps = defaultdict(list)   # server id -> application rows hosted (instances or databases)
        self.prod_servers = defaultdict(list)  # (app name, site) -> prod servers of that app
        self.pools = {}                        # (env, site, kind) -> [server, used]
        self.app_envs = defaultdict(list)      # app name -> environments with instances
        self.events = []
        self.changes = []

    # ----------------------------------------------------------------- helpers
    def rng(self, purpose):
        return random.Random(f"plexus-demo/{self.seed}/{purpose}")

    def new_id(self, prefix):
        self.counters[prefix] += 1
        return f"{prefix}-{self.counters[prefix]:04d}"

    def scaled(self, n):
        return max(1, round(n * self.scale))

    def next_ip(self, site, block):
        i = self.counters[("ip", site, block)]
        self.counters[("ip", site, block)] += 1
        return f"10.{SITES[site][6]}.{ENV_BLOCK[block] + i // 240}.{10 + i % 240}"

    def at_kst(self, fraction, hour, minute=0, snap=True):
        """The first hour:minute KST on or after day int(fraction * days) of the window, by default
        moved onto the sample grid so that metric anomalies start exactly there."""
        day = min(self.days - 1, int(fraction * self.days))
        base = self.start + dt.timedelta(days=day)
        local = base + KST
        wanted = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if wanted < local:
            wanted += dt.timedelta(days=1)
        return self.on_grid(wanted - KST) if snap else wanted - KST

    def on_grid(self, t):
        """t rounded up to the 5-minute sample grid that starts at --start."""
        steps = math.ceil((t - self.start) / FINE)
        return self.start + steps * FINE

    def in_window(self, t):
        return self.start <= t < self.end

    def event(self, t, source_type, source_id, severity, kind, message, metric=None, value=None, change=None):
        row = dict(ts=t, source_type=source_type, source_id=source_id, severity=severity, type=kind,
                   message=message, metric=metric, value=value, _change=change, _incident=None)
        self.events.append(row)
        return row

    # ----------------------------------------------------------------- catalog
    def build_catalog(self):
        for code, (name, kind, provider, region, lat, lon, _, prefix) in SITES.items():
            self.t["sites"].append(dict(id=f"site-{code}", code=code, name=name, kind=kind, provider=provider,
                                        region=region, latitude=lat, longitude=lon, timezone="Asia/Seoul",
                                        public_prefix=prefix))
        self.people = {}
        for ti, (slug, name) in enumerate(TEAMS):
            members = []
            for k in range(3):
                i = ti * 3 + k
                given, surname = GIVEN_NAMES[i % len(GIVEN_NAMES)], SURNAMES[(i * 7 + 3) % len(SURNAMES)]
                members.append((f"{given.lower()}.{surname.lower()}", f"{surname} {given}"))
            self.people[slug] = members
            self.t["teams"].append(dict(id=f"team-{slug}", name=name, email=f"{slug}@{DOMAIN}",
                                        slack_channel=f"#{slug}-oncall", oncall_name=members[0][1],
                                        oncall_email=f"{members[0][0]}@{DOMAIN}",
                                        oncall_phone=f"+82-10-0000-{1000 + ti * 137:04d}"))
        self.apps = {}
        for a in APPS:
            row = dict(id=f"app-{a['name']}", name=a["name"], name_ko=a["name_ko"], tier=a["tier"],
                       owner_team_id=f"team-{a['team']}", criticality=a["criticality"], language=a["language"],
                       description=a["description"])
            self.t["applications"].append(row)
            self.apps[a["name"]] = row

    # ----------------------------------------------------------------- compute
    def add_server(self, site, env, role, team, tags, status, rng):
        self.counters[("host", role, env, site)] += 1
        hostname = f"{role}-{ENV_CODE[env]}-{site}-{self.counters[('host', role, env, site)]:02d}"
        if site in CLOUD_TYPES:
            model = rng.choice(CLOUD_TYPES[site][role])
            cores, memory = CLOUD_SIZES[model]
            platform = "aws-ec2" if site == "aws" else "azure-vm"
            os_name = "Amazon Linux 2023" if site == "aws" else "Ubuntu 22.04 LTS"
        elif role == "db":
            platform = "bare-metal"
            model = rng.choice(("Dell PowerEdge R750", "HPE ProLiant DL380 Gen10 Plus"))
            cores, memory = rng.choice((32, 48, 64)), rng.choice((256, 384, 512))
            os_name = "Oracle Linux 8.9" if "oracle" in tags else rng.choice(("Rocky Linux 9.3", "RHEL 8.9"))
        else:
            platform, model = "vmware", "VMware vSphere VM"
            cores, memory = rng.choice(VM_SPECS[role][0]), rng.choice(VM_SPECS[role][1])
            if env == "dev":
                cores, memory = max(2, cores // 2), max(4, memory // 2)
            windows = any(t in ("groupware", "hr-portal") for t in tags)
            os_name = "Windows Server 2019" if windows else rng.choice(
                ("Rocky Linux 9.3", "RHEL 8.9", "RHEL 9.2", "Ubuntu 22.04 LTS"))
        row = dict(id=self.new_id("srv"), hostname=hostname, site_id=f"site-{site}", environment=env, role=role,
                   os=os_name, cpu_cores=cores, memory_gb=memory, ip=self.next_ip(site, env), status=status,
                   owner_team_id=f"team-{team}", tags=list(tags), platform=platform, model=model)
        self.t["servers"].append(row)
        return row

    def pool_server(self, env, site, kind, role, team, capacity, rng):
        """A shared server of (env, site, kind) with room for one more tenant."""
        entry = self.pools.get((env, site, kind))
        if entry is None or entry[1] >= capacity:
            entry = [self.add_server(site, env, role, team, [env, role, "shared"], "running", rng), 0]
            self.pools[(env, site, kind)] = entry
        entry[1] += 1
        return entry[0]

    def add_instance(self, a, server, status):
        port = LANG_PORT[a["language"]] + APPS.index(a)
        row = dict(id=self.new_id("inst"), application_id=self.apps[a["name"]]["id"], server_id=server["id"],
                   port=port, version="", status=status, _app=a["name"], _env=server["environment"])
        self.t["app_instances"].append(row)
        self.server_apps[server["id"]].append(self.apps[a["name"]])
        if server["environment"] not in self.app_envs[a["name"]]:
            self.app_envs[a["name"]].append(server["environment"])
        if a["name"] not in server["tags"]:
            server["tags"].append(a["name"])
        return row

    def add_database(self, name, engine, version, server, a, role, primary, size):
        existing = sum(1 for d in self.t["databases"] if d["server_id"] == server["id"] and d["engine"] == engine)
        port = ENGINE_PORT[engine] + (existing if engine == "redis" else 0)
        row = dict(id=self.new_id("db"), name=name, engine=engine, version=version, server_id=server["id"],
                   application_id=self.apps[a["name"]]["id"], role=role,
                   primary_id=primary["id"] if primary else None, port=port, size_gb=round(size, 1))
        self.t["databases"].append(row)
        self.server_apps[server["id"]].append(self.apps[a["name"]])
        for tag in (engine, name):
            if tag not in server["tags"]:
                server["tags"].append(tag)
        return row

    def build_compute(self):
        rng = self.rng("compute")
        for a in APPS:
            for site, role, count in a["prod"]:
                status = "standby" if site == "djn" else "running"
                tags = ["prod", role, a["name"]] + (["dr"] if site == "djn" else [])
                tags += ["pci"] if a["team"] == "payments" else []
                for _ in range(1 if site == "djn" else self.scaled(count)):
                    server = self.add_server(site, "prod", role, a["team"], tags, status, rng)
                    self.add_instance(a, server, status)
                    self.prod_servers[(a["name"], site)].append(server)
        self.prod_db = {}
        for a in APPS:
            sites = [s for s, _, _ in a["prod"]]
            home = sites[0]
            elsewhere = [s for s in sites if s not in (home, "djn")]
            for name, engine in a["dbs"]:
                version = rng.choice(ENGINE_VERSIONS[engine])
                if engine == "redis":
                    server = self.pool_server("prod", home, "redis", "cache", "platform", 3, rng)
                    self.prod_db[name] = self.add_database(name, engine, version, server, a, "primary", None,
                                                           rng.uniform(2, 24))
                    continue
                size = DB_SIZE_GB[name] * rng.uniform(0.9, 1.1)
                tags = ["prod", "db"] + (["pci"] if a["team"] == "payments" else [])
                server = self.add_server(home, "prod", "db", "dba", tags + [engine], "running", rng)
                primary = self.add_database(name, engine, version, server, a, "primary", None, size)
                self.prod_db[name] = primary
                if a["criticality"] in ("critical", "high"):
                    site = elsewhere[0] if elsewhere else home
                    server = self.add_server(site, "prod", "db", "dba", tags + [engine], "running", rng)
                    self.add_database(name, engine, version, server, a, "replica", primary,
                                      size * rng.uniform(0.98, 1.0))
                if a["criticality"] == "critical" and "djn" in sites:
                    server = self.add_server("djn", "prod", "db", "dba", tags + [engine, "dr"], "standby", rng)
                    self.add_database(name, engine, version, server, a, "standby", primary,
                                      size * rng.uniform(0.98, 1.0))
        for a in APPS:
            if not a["nonprod"]:
                continue
            home = NONPROD_SITE[a["prod"][0][0]]
            role = {"frontend": "web", "batch": "bat", "data": "bat"}.get(a["tier"], "was")
            for env, capacity in (("staging", 3), ("dev", 4)):
                self.add_instance(a, self.pool_server(env, home, role, role, "platform", capacity, rng), "running")
        for a in APPS:
            if not a["nonprod"]:
                continue
            home = NONPROD_SITE[a["prod"][0][0]]
            for name, engine in a["dbs"]:
                prod = self.prod_db[name]
                for env in ("staging", "dev"):
                    role, team = ("cache", "platform") if engine == "redis" else ("db", "dba")
                    server = self.pool_server(env, home, engine, role, team, 1000, rng)
                    version = ENGINE_VERSIONS[engine][-1] if env == "dev" else prod["version"]
                    size = prod["size_gb"] * (rng.uniform(0.3, 0.6) if engine == "redis" else rng.uniform(0.02, 0.1))
                    self.add_database(name, engine, version, server, a, "primary", None, size)
        for _ in range(self.scaled(3)):  # left-overs waiting for decommissioning: a CMDB has them
            self.add_server("seo", "prod", "was", "platform", ["prod", "was", "decommission"], "stopped", rng)

    # ----------------------------------------------------------------- network
    def add_device(self, site, role):
        family = site if site in CLOUD_TYPES else "on_prem"
        prefix = DEVICE_PREFIX[(family, role)]
        self.counters[("dev", prefix, site)] += 1
        vendor, model, os_version, _ = DEVICE_MODELS[(site, role)]
        row = dict(id=self.new_id("net"), hostname=f"{prefix}-{site}-{self.counters[('dev', prefix, site)]:02d}",
                   kind=DEVICE_KIND[role], role=role, vendor=vendor, model=model, os_version=os_version,
                   site_id=f"site-{site}", mgmt_ip=self.next_ip(site, "mgmt"), status="active",
                   owner_team_id="team-network", _site=site)
        self.t["network_devices"].append(row)
        return row

    def port(self, thing):
        if "kind" not in thing:  # a server
            return "eth0"
        self.counters[("port", thing["id"])] += 1
        return f"{DEVICE_MODELS[(thing['_site'], thing['role'])][3]}{self.counters[('port', thing['id'])]}"

    def link(self, a, b, bandwidth, kind, status="up"):
        a_type = "network_device" if "kind" in a else "server"
        b_type = "network_device" if "kind" in b else "server"
        self.t["links"].append(dict(id=self.new_id("lnk"), a_type=a_type, a_id=a["id"], a_interface=self.port(a),
                                    b_type=b_type, b_id=b["id"], b_interface=self.port(b),
                                    bandwidth_mbps=bandwidth, kind=kind, status=status))

    def build_network(self):
        self.devices = {}
        for site in SITES:
            servers = [s for s in self.t["servers"] if s["site_id"] == f"site-{site}"]
            if site in CLOUD_TYPES:
                edge = self.add_device(site, "edge")
                fw = self.add_device(site, "perimeter")
                lbs = [self.add_device(site, "app_delivery") for _ in range(2 if site == "aws" else 1)]
                self.link(fw, edge, 50000, "uplink")
                for lb in lbs:
                    self.link(lb, edge, 25000, "uplink")
                for s in servers:
                    self.link(s, edge, 10000 if s["role"] in ("db", "cache") else 5000, "vpc")
                self.devices[site] = dict(edge=[edge], perimeter=[fw], app_delivery=lbs)
                continue
            pair = 1 if site == "djn" else 2
            d = {role: [self.add_device(site, role) for _ in range(pair)]
                 for role in ("edge", "perimeter", "core", "app_delivery")}
            d["access"] = [self.add_device(site, "access")
                           for _ in range(max(1, math.ceil(len(servers) / SERVERS_PER_TOR)))]
            for i in range(pair):
                self.link(d["edge"][i], d["perimeter"][i], 10000, "uplink")
                self.link(d["perimeter"][i], d["core"][i], 40000, "uplink")
                self.link(d["app_delivery"][i], d["core"][i], 10000, "uplink")
            if pair == 2:
                self.link(d["perimeter"][0], d["perimeter"][1], 10000, "ha")
                self.link(d["core"][0], d["core"][1], 100000, "peer")
                self.link(d["app_delivery"][0], d["app_delivery"][1], 10000, "ha")
            for tor in d["access"]:
                for core in d["core"]:
                    self.link(tor, core, 100000, "uplink")
            for i, s in enumerate(servers):
                bandwidth = 25000 if s["role"] in ("db", "cache") else 10000
                self.link(s, d["access"][i // SERVERS_PER_TOR], bandwidth, "access",
                          "down" if s["status"] == "stopped" else "up")
            self.devices[site] = d
        dv = self.devices
        self.link(dv["seo"]["edge"][0], dv["bsn"]["edge"][0], 10000, "wan")
        self.link(dv["seo"]["edge"][1], dv["bsn"]["edge"][1], 10000, "wan")
        self.link(dv["seo"]["edge"][1], dv["djn"]["edge"][0], 10000, "wan")
        self.link(dv["bsn"]["edge"][1], dv["djn"]["edge"][0], 1000, "wan")
        self.link(dv["seo"]["edge"][0], dv["aws"]["edge"][0], 10000, "direct_connect")
        self.link(dv["seo"]["edge"][1], dv["azr"]["edge"][0], 1000, "expressroute")

    # ----------------------------------------------------------------- relations
    def build_relations(self):
        seen = {}

        def relate(source_type, source_id, relation, target_type, target_id):
            key = (source_type, source_id, relation, target_type, target_id)
            if key not in seen:
                seen[key] = dict(id=self.new_id("rel"), source_type=source_type, source_id=source_id,
                                 relation=relation, target_type=target_type, target_id=target_id)
                self.t["relations"].append(seen[key])

        for s in self.t["servers"]:
            relate("server", s["id"], "member_of", "site", s["site_id"])
        for d in self.t["network_devices"]:
            relate("network_device", d["id"], "member_of", "site", d["site_id"])
        for i in self.t["app_instances"]:
            relate("application", i["application_id"], "runs_on", "server", i["server_id"])
        for d in self.t["databases"]:
            relate("database", d["id"], "runs_on", "server", d["server_id"])
        for d in self.t["databases"]:
            relate("application", d["application_id"], "backed_by", "database", d["id"])
            if d["primary_id"]:
                relate("database", d["id"], "depends_on", "database", d["primary_id"])
        for a in APPS:
            for dep in a["deps"]:
                relate("application", self.apps[a["name"]]["id"], "depends_on", "application", self.apps[dep]["id"])
            if a["tier"] == "frontend" or a["name"] == "api-gateway":
                for site in dict.fromkeys(s for s, _, _ in a["prod"]):
                    for lb in self.devices[site]["app_delivery"]:
                        relate("application", self.apps[a["name"]]["id"], "depends_on", "network_device", lb["id"])
        for link in self.t["links"]:
            relate(link["a_type"], link["a_id"], "connects_to", link["b_type"], link["b_id"])

    # ----------------------------------------------------------------- timeline
    def plan(self):
        """Who and when of the planted incidents; times depend only on --start and --days."""
        p = {}
        p["canary_server"] = self.prod_servers[("order-api", "seo")][0]
        p["leak_server"] = self.prod_servers[("payment-api", "seo")][0]
        p["disk_db"] = self.prod_db["settledb"]
        p["disk_server"] = self.server_by_id[p["disk_db"]["server_id"]]
        p["blip_server"] = self.prod_servers[("settlement-batch", "seo")][0]
        p["bastion"] = self.prod_servers[("bastion", "seo")][0]
        p["backup_db"] = self.prod_db["memberdb"]
        p["firewalls"] = self.devices["seo"]["perimeter"]
        for key in ("canary", "leak"):
            server = p[f"{key}_server"]
            p[f"{key}_instance"] = next(i for i in self.t["app_instances"] if i["server_id"] == server["id"])
        p["leak_cause"] = self.at_kst(0.0, 10, 30)      # payment-api deploy with the leak
        p["leak_fix"] = self.at_kst(0.75, 11, 0)        # payment-api deploy with the fix
        p["disk_cause"] = self.at_kst(0.05, 16, 0)      # settledb WAL archive moved, archiving fails
        p["disk_cleanup"] = self.at_kst(0.66, 10, 30)   # archive fixed, WAL purged
        p["canary"] = self.at_kst(0.45, 14, 0)          # order-api canary deploy
        p["rollback"] = p["canary"] + 50 * MINUTE
        p["blip"] = self.at_kst(0.2, 2, 20)             # batch CPU blip, warning only
        p["burst"] = self.at_kst(0.3, 3, 10)            # SSH brute force on the bastion
        p["backup_night"] = self.at_kst(0.8, 2, 0, snap=False)  # memberdb nightly backup fails
        self.p = p

    def change(self, t, kind, env, a, target_type, target_id, summary, team, risk, minutes, status="completed",
               version_part=None, rollback_of=None, approved=True, rng=None):
        members = self.people[team]
        requester = members[rng.randrange(len(members))][0]
        approver = None
        if approved:
            approver = next(m[0] for m in self.people[team][::-1] if m[0] != requester)
        row = dict(kind=kind, environment=env, application_id=self.apps[a]["id"] if a else None,
                   target_type=target_type, target_id=target_id, summary=summary, version_from=None,
                   version_to=None, requested_by=requester, approved_by=approver, risk=risk, status=status,
                   started_at=t, finished_at=t + minutes * MINUTE, _app=a, _part=version_part, _rollback=rollback_of)
        self.changes.append(row)
        return row

    def build_changes(self):
        p, rng = self.p, self.rng("changes")
        cs = p["canary_server"]
        fleet = sum(1 for s in self.prod_servers[("order-api", "seo")] + self.prod_servers[("order-api", "bsn")]
                    if s["status"] == "running")
        p["leak_cause_change"] = self.change(
            p["leak_cause"], "deploy", "prod", "payment-api", "application", self.apps["payment-api"]["id"],
            "Deploy payment-api {to} to prod: settlement lookup cache", "payments", "medium", 18,
            version_part="minor", rng=rng)
        p["leak_fix_change"] = self.change(
            p["leak_fix"], "deploy", "prod", "payment-api", "application", self.apps["payment-api"]["id"],
            "Deploy payment-api {to} to prod: bound the settlement lookup cache (memory leak)", "payments", "high",
            22, version_part="promote", rng=rng)
        p["disk_cause_change"] = self.change(
            p["disk_cause"], "config_change", "prod", "settlement-batch", "database", p["disk_db"]["id"],
            "Point settledb WAL archive_command at the new NFS share /archive2", "dba", "low", 12, rng=rng)
        p["disk_fix_change"] = self.change(
            p["disk_cleanup"], "config_change", "prod", "settlement-batch", "database", p["disk_db"]["id"],
            "Fix settledb archive_command path (/archive2/wal) and purge archived WAL", "dba", "medium", 35, rng=rng)
        p["canary_change"] = self.change(
            p["canary"], "deploy", "prod", "order-api", "app_instance", p["canary_instance"]["id"],
            f"Canary deploy order-api {{to}} to {cs['hostname']} (1 of {fleet} prod instances)",
            "commerce", "medium", 6, status="rolled_back", version_part="minor", rng=rng)
        p["rollback_change"] = self.change(
            p["rollback"], "deploy", "prod", "order-api", "app_instance", p["canary_instance"]["id"],
            f"Roll back the order-api canary on {cs['hostname']} to {{to}}", "commerce", "low", 4,
            rollback_of=p["canary_change"], rng=rng)
        p["block_change"] = self.change(
            p["burst"] + 35 * MINUTE, "config_change", "prod", "bastion", "network_device", p["firewalls"][0]["id"],
            "Block 203.0.113.77 on the Seoul perimeter firewalls (SSH brute force on the bastion)", "security",
            "low", 5, rng=rng)
        p["backup_fix_change"] = self.change(
            p["backup_night"] + 150 * MINUTE, "config_change", "prod", "member-api", "database",
            p["backup_db"]["id"], "Extend the /backup volume of memberdb from 2 TB to 3 TB", "dba", "medium", 25,
            rng=rng)
        self.background_changes(rng)
        self.changes.sort(key=lambda c: (c["started_at"], c["summary"]))
        # One release line per application: a dev deploy ships a new build, staging takes what dev runs
        # when dev is ahead, prod promotes what staging runs when staging is ahead (else a hotfix).
        current, latest = {}, {}
        for a in APPS:
            vr = self.rng(f"versions/{a['name']}")
            prod = f"{vr.randint(1, 5)}.{vr.randint(0, 20)}.{vr.randint(0, 9)}"
            staging = bump(prod, "patch") if a["nonprod"] and vr.random() < 0.5 else prod
            dev = bump(staging, "minor") if a["nonprod"] and vr.random() < 0.5 else staging
            current.update({(a["name"], "prod"): prod, (a["name"], "staging"): staging, (a["name"], "dev"): dev})
            latest[a["name"]] = dev
        for c in self.changes:
            if c["kind"] != "deploy":
                continue
            name, key = c["_app"], (c["_app"], c["environment"])
            c["version_from"] = current[key]
            below = {"prod": "staging", "staging": "dev"}.get(c["environment"])
            ahead = below and version_key(current[(name, below)]) > version_key(current[key])
            if c["_rollback"]:
                c["version_to"] = c["_rollback"]["version_from"]
            elif c["_part"] == "promote":
                c["version_to"] = current[(name, below)] if ahead else bump(current[key], "patch")
            elif c["environment"] == "staging" and ahead:
                c["version_to"] = current[(name, "dev")]
            else:
                c["version_to"] = bump(latest[name], c["_part"])
            latest[name] = max(latest[name], c["version_to"], key=version_key)
            if c["status"] != "failed":
                current[key] = c["version_to"]
            c["summary"] = c["summary"].replace("{to}", c["version_to"])
        for i in self.t["app_instances"]:
            i["version"] = current[(i["_app"], i["_env"])]

    def background_changes(self, rng):
        excluded = {("order-api", "prod"), ("payment-api", "prod")}  # their prod history is the planted one
        candidates = {env: [a for a in APPS if env in self.app_envs[a["name"]] and (a["name"], env) not in excluded]
                      for env in ("prod", "staging", "dev")}
        first_day = (self.start + KST).date()
        for d in range(self.days + 1):
            day = first_day + dt.timedelta(days=d)
            if day.weekday() >= 5:
                continue
            for n in range(round(rng.randint(3, 6) * self.scale) + round(rng.randint(1, 3) * self.scale)):
                t = dt.datetime.combine(day, dt.time(10)) - KST + rng.randrange(0, 7 * 60 + 30) * MINUTE
                if not (self.start <= t and t + 2 * dt.timedelta(hours=1) < self.end):
                    continue
                if n % 3 == 2:
                    self.background_config_change(t, rng)
                    continue
                env = rng.choices(("prod", "staging", "dev"), weights=(5, 3, 2))[0]
                a = rng.choice(candidates[env])
                failed = env != "dev" and rng.random() < 0.08
                risk = "high" if env == "prod" and a["criticality"] == "critical" else (
                    "medium" if env == "prod" else "low")
                self.change(t, "deploy", env, a["name"], "application", self.apps[a["name"]]["id"],
                                f"Deploy {a['name']} {{to}} to {env}", a["team"], risk, rng.randint(8, 40),
                                status="failed" if failed else "completed",
                                version_part="promote" if env == "prod" else rng.choice(("patch", "patch", "minor")),
                                approved=env == "prod",
                                rng=rng)

    def background_config_change(self, t, rng):
        kind = rng.choice(("database", "server", "network_device", "application"))
        if kind == "database":
            db = rng.choice([d for d in self.t["databases"] if d["role"] == "primary" and d["engine"] != "redis"])
            a = self.app_name[db["application_id"]]
            old = rng.choice((300, 500, 800))
            summary = rng.choice((f"Raise max_connections on {db['name']} from {old} to {old * 2}",
                                  f"Rotate the application credentials of {db['name']}",
                                  f"Enable slow query log on {db['name']} (threshold 500 ms)"))
            env = self.server_by_id[db["server_id"]]["environment"]
            self.change(t, "config_change", env, a, "database", db["id"], summary, "dba",
                        "medium" if env == "prod" else "low", rng.randint(5, 20), approved=env == "prod", rng=rng)
        elif kind == "server":
            s = rng.choice([s for s in self.t["servers"] if s["status"] == "running"])
            hosted = self.server_apps[s["id"]]
            summary = rng.choice((f"Apply OS security patches on {s['hostname']} ({s['os']})",
                                  f"Increase the swap file on {s['hostname']} to 8 GB",
                                  f"Renew the TLS certificate on {s['hostname']}"))
            self.change(t, "config_change", s["environment"], hosted[0]["name"] if hosted else None, "server",
                        s["id"], summary, self.app_team(hosted, "platform"), "low", rng.randint(10, 45),
                        approved=s["environment"] == "prod", rng=rng)
        elif kind == "network_device":
            dev = rng.choice(self.t["network_devices"])
            a = rng.choice(APPS)
            summary = rng.choice((f"Update ACL on {dev['hostname']}: allow {a['name']} to the PG gateway range",
                                  f"Add a pool member for {a['name']} on {dev['hostname']}",
                                  f"Tune SNMP polling and syslog targets on {dev['hostname']}"))
            self.change(t, "config_change", "prod", a["name"], "network_device", dev["id"], summary, "network",
                        "medium", rng.randint(5, 30), rng=rng)
        else:
            env = rng.choice(("prod", "staging"))
            a = rng.choice([a for a in APPS if env in self.app_envs[a["name"]]])
            self.change(t, "config_change", env, a["name"], "application", self.apps[a["name"]]["id"],
                        f"Enable feature flag '{rng.choice(FEATURE_FLAGS)}' for {a['name']} in {env}", a["team"],
                        "low", rng.randint(2, 10), approved=env == "prod", rng=rng)

    def app_team(self, hosted, default):
        return hosted[0]["owner_team_id"][len("team-"):] if hosted else default

    # ----------------------------------------------------------------- metrics
    def monitored(self):
        p = self.p
        fine = [p["canary_server"], p["leak_server"], p["disk_server"]]
        coarse = [self.prod_servers[("order-api", "seo")][1:2], self.prod_servers[("storefront-web", "seo")][:1],
                  [self.server_by_id[self.prod_db["orderdb"]["server_id"]]],
                  [self.server_by_id[self.prod_db["session"]["server_id"]]], [p["blip_server"]]]
        coarse = [s for group in coarse for s in group]
        chosen = {s["id"] for s in fine + coarse}
        extra = [s for s in self.t["servers"] if s["environment"] == "prod" and s["status"] == "running"
                 and s["id"] not in chosen]
        coarse += extra[:max(0, round(5 * (self.scale - 1)))]
        return [(s, FINE) for s in fine] + [(s, COARSE) for s in coarse]

    def build_metrics(self):
        p = self.p
        p["restarts"] = []
        rows = []
        for server, interval in self.monitored():
            rng = self.rng(f"metrics/{server['hostname']}")
            prof = PROFILES[server["role"]]
            times = [self.start + k * interval for k in range(int(self.window / interval))]
            off = {m: rng.uniform(-3, 3) for m in METRICS}
            v = {m: [] for m in METRICS}
            for t in times:
                tr, night = traffic(t), night_window(t)
                elapsed = (t - self.start) / dt.timedelta(days=1)
                v["cpu_pct"].append(prof["cpu"][0] + prof["cpu"][1] * tr + prof["night"] * night + off["cpu_pct"]
                                    + rng.gauss(0, 2.0))
                v["mem_pct"].append(prof["mem"][0] + prof["mem"][1] * tr + off["mem_pct"] + rng.gauss(0, 0.6))
                v["disk_pct"].append(prof["disk"] + off["disk_pct"] * 2 + 0.25 * elapsed + rng.gauss(0, 0.03))
                for m, key in (("net_in_mbps", "net_in"), ("net_out_mbps", "net_out")):
                    base, amp = prof[key]
                    v[m].append((base + amp * tr) * (1 + off[m] / 30) * (1 + rng.gauss(0, 0.08)))
            if server is p["canary_server"]:
                self.overlay_canary(times, v, rng)
            if server is p["leak_server"]:
                self.overlay_leak(times, v, rng)
            if server is p["disk_server"]:
                self.overlay_disk(times, v)
            if server is p["blip_server"]:
                for i, t in enumerate(times):
                    if p["blip"] <= t < p["blip"] + 20 * MINUTE:
                        v["cpu_pct"][i] = rng.uniform(87.0, 89.5)
            for m in METRICS:
                top = 100.0 if m.endswith("_pct") else 1e9
                values = [round(min(top, max(0.0, x)), 1) for x in v[m]]
                rows.extend(dict(ts=t, server_id=server["id"], metric=m, value=x) for t, x in zip(times, values))
                if m in THRESHOLDS:
                    self.detect(server, m, times, values)
        rows.sort(key=lambda r: (r["ts"], r["server_id"], r["metric"]))
        for r in rows:
            r["ts"] = iso(r["ts"])
        self.t["metrics"] = rows

    def overlay_canary(self, times, v, rng):
        p = self.p
        for i, t in enumerate(times):
            if t == p["canary"] + 5 * MINUTE:
                v["cpu_pct"][i] = rng.uniform(70, 78)
            elif p["canary"] + 10 * MINUTE <= t < p["rollback"] + 5 * MINUTE:
                v["cpu_pct"][i] = rng.uniform(96.0, 99.5)
                v["net_out_mbps"][i] *= 0.6  # requests time out, fewer responses leave

    def overlay_leak(self, times, v, rng):
        p = self.p
        cause, fix = p["leak_cause_change"]["finished_at"], p["leak_fix_change"]["finished_at"]
        hours_per_cycle = (fix - cause) / dt.timedelta(hours=1) / 3.4
        rate = (OOM_PCT - 60.0) / hours_per_cycle  # percent per hour
        reset = cause
        for i, t in enumerate(times):
            if not cause <= t < fix:
                continue
            # A fixed heap baseline rather than the server's seeded offset: only noise moves the restarts.
            leaked = rate * (t - reset) / dt.timedelta(hours=1)
            v["mem_pct"][i] = 57.0 + 6.0 * traffic(t) + leaked + rng.gauss(0, 0.5)
            v["cpu_pct"][i] += min(20.0, max(0.0, (v["mem_pct"][i] - 85) * 2.0))  # garbage collection
            if v["mem_pct"][i] >= OOM_PCT:
                v["mem_pct"][i] = min(v["mem_pct"][i], 99.2)
                p["restarts"].append(t + rng.randint(1, 3) * MINUTE)
                reset = t

    def overlay_disk(self, times, v):
        p = self.p
        cause, cleanup = p["disk_cause_change"]["finished_at"], p["disk_fix_change"]["started_at"]
        purged = p["disk_fix_change"]["finished_at"]
        base = v["disk_pct"][min(range(len(times)), key=lambda i: abs(times[i] - cause))]
        full = 96.8 - base
        for i, t in enumerate(times):
            if cause <= t < cleanup:
                v["disk_pct"][i] += full * ((t - cause) / (cleanup - cause))
            elif cleanup <= t:
                share = min(1.0, (t - cleanup) / (purged - cleanup))
                v["disk_pct"][i] += full + (52.0 - base - full) * share

    def detect(self, server, metric, times, values):
        """Threshold alerts as a CEP rule would raise them: warning, critical, recovery with hysteresis."""
        warning, critical = THRESHOLDS[metric]
        state = 0
        host = server["hostname"]
        for t, x in zip(times, values):
            if x >= critical and state < 2:
                self.event(t, "server", server["id"], "critical", "threshold",
                           f"{metric} is {x}% on {host} (critical threshold {critical:g}%)", metric, x)
                state = 2
            elif warning <= x < critical and state < 1:
                self.event(t, "server", server["id"], "warning", "threshold",
                           f"{metric} is {x}% on {host} (warning threshold {warning:g}%)", metric, x)
                state = 1
            elif x < warning - HYSTERESIS and state > 0:
                self.event(t, "server", server["id"], "info", "threshold",
                           f"{metric} back to {x}% on {host} (below {warning - HYSTERESIS:g}%)", metric, x)
                state = 0
            elif x < critical - HYSTERESIS and state == 2:
                state = 1

    # ----------------------------------------------------------------- events
    def build_events(self):
        p, rng = self.p, self.rng("events")
        for c in self.changes:
            if c["status"] == "failed":
                message = f"Change failed health checks, {c['version_from']} restored: {c['summary']}"
            else:
                message = f"Change finished: {c['summary']}"
            severity = "warning" if c["status"] == "failed" else "info"
            self.event(c["finished_at"], c["target_type"], c["target_id"], severity, c["kind"], message, change=c)
        inst, host = p["leak_instance"], p["leak_server"]["hostname"]
        p["restart_events"] = [
            self.event(t, "app_instance", inst["id"], "warning", "restart",
                       f"payment-api on {host} was killed by the OOM killer and restarted by systemd")
            for t in p["restarts"]]
        self.backups(rng)
        self.logins(rng)
        running = [i for i in self.t["app_instances"]
                   if i["status"] == "running" and i["id"] != inst["id"]]
        for _ in range(round(self.days * self.scale * 1.5)):
            i = rng.choice(running)
            server = self.server_by_id[i["server_id"]]
            t = self.start + rng.randrange(int(self.window / MINUTE)) * MINUTE
            reason = rng.choice((("info", "restarted by operator after a configuration reload"),
                                 ("warning", "restarted by the watchdog after 3 failed health checks"),
                                 ("info", "restarted for log rotation of the GC log")))
            self.event(t, "app_instance", i["id"], reason[0], "restart",
                       f"{i['_app']} on {server['hostname']} {reason[1]}")

    def backups(self, rng):
        p = self.p
        failed_night = p["backup_night"]
        first_day = (self.start + KST).date()
        dbs = [d for d in self.t["databases"] if d["role"] == "primary" and d["engine"] != "redis"
               and self.server_by_id[d["server_id"]]["environment"] == "prod"]
        for n in range(-1, self.days + 1):
            night = dt.datetime.combine(first_day + dt.timedelta(days=n), dt.time(2)) - KST
            for d in dbs:
                begin = night + rng.randrange(0, 40) * MINUTE
                minutes = max(4, round(d["size_gb"] / rng.uniform(25, 40)))
                if d is p["backup_db"] and night == failed_night:
                    t = begin + 41 * MINUTE
                    p["backup_failed"] = self.event(
                        t, "database", d["id"], "critical", "backup",
                        f"Nightly full backup of {d['name']} ({d['engine']}) failed after 41 min: "
                        f"no space left on device (/backup/{d['name']})")
                    rerun = p["backup_fix_change"]["finished_at"] + 5 * MINUTE + minutes * MINUTE
                    p["backup_rerun"] = self.event(
                        rerun, "database", d["id"], "info", "backup",
                        f"Manual full backup of {d['name']} ({d['engine']}) completed: {d['size_gb']} GB in "
                        f"{minutes} min")
                    continue
                t = begin + minutes * MINUTE
                if self.in_window(t):
                    self.event(t, "database", d["id"], "info", "backup",
                               f"Nightly full backup of {d['name']} ({d['engine']}) completed: {d['size_gb']} GB in "
                               f"{minutes} min")

    def logins(self, rng):
        p = self.p
        bastions = [s for s in self.t["servers"] if s["role"] == "bastion"]
        others = [s for s in self.t["servers"] if s["status"] == "running" and s["environment"] == "prod"]
        seconds = int(self.window.total_seconds())
        for _ in range(round(self.days * self.scale * 7)):
            server = rng.choice(bastions) if rng.random() < 0.4 else rng.choice(others)
            t = self.start + dt.timedelta(seconds=rng.randrange(seconds))
            if rng.random() < 0.7:
                source, user = f"10.{rng.choice((10, 20))}.{rng.randint(200, 203)}.{rng.randint(10, 250)}", rng.choice(
                    [m[0] for team in self.people.values() for m in team])
            else:
                source, user = f"198.51.100.{rng.randint(100, 250)}", rng.choice(SSH_USERS)
            self.event(t, "server", server["id"], "info", "login_failure",
                       f"Failed password for {user} from {source} port {rng.randint(32768, 60999)} ssh2 "
                       f"on {server['hostname']}")
        bastion = p["bastion"]
        offsets = sorted(rng.randrange(20 * 60) for _ in range(60))
        p["burst_events"] = [
            self.event(p["burst"] + dt.timedelta(seconds=s), "server", bastion["id"], "warning", "login_failure",
                       f"Failed password for invalid user {SSH_USERS[k % len(SSH_USERS)]} from 203.0.113.77 port "
                       f"{rng.randint(32768, 60999)} ssh2 on {bastion['hostname']}")
            for k, s in enumerate(offsets)]

    # ----------------------------------------------------------------- incidents
    def build_incidents(self):
        p, rng = self.p, self.rng("incidents")

        def threshold_events(server, metrics, since, severity=None):
            return [e for e in self.events if e["type"] == "threshold" and e["source_id"] == server["id"]
                    and e["metric"] in metrics and e["ts"] >= since and (severity is None or e["severity"] == severity)]

        incidents = []

        def incident(title, severity, trigger, evidence, resolved, a, ci_type, ci_id, team, cause, fix, summary,
                     root_cause):
            opened = trigger["ts"]
            resolved = resolved if resolved < self.end else None
            evidence = [e for e in evidence if e["ts"] <= (resolved or self.end)]
            row = dict(title=title, severity=severity, status="resolved" if resolved else "open", opened_at=opened,
                       acknowledged_at=min(opened + rng.randint(2, 14) * MINUTE, resolved or self.end - MINUTE),
                       resolved_at=resolved, ci_type=ci_type, ci_id=ci_id, application_id=self.apps[a]["id"],
                       team_id=f"team-{team}", summary=summary, root_cause=root_cause, _trigger=trigger,
                       _cause=cause, _fix=fix)
            for e in evidence:
                e["_incident"] = row
            incidents.append(row)

        cs = p["canary_server"]
        cpu = threshold_events(cs, ("cpu_pct",), p["canary"])
        recovery = next(e for e in cpu if e["severity"] == "info")
        incident(f"order-api canary on {cs['hostname']}: CPU saturated after deploy", "sev2",
                 next(e for e in cpu if e["severity"] == "critical"), [e for e in cpu if e["ts"] <= recovery["ts"]],
                 recovery["ts"] + 10 * MINUTE, "order-api", "server", cs["id"], "commerce", p["canary_change"],
                 p["rollback_change"],
                 f"CPU on {cs['hostname']} went from ~45% to 96-99% ten minutes after the order-api canary deploy; "
                 "checkout latency rose for the share of traffic on the canary. Rolled back after 50 minutes.",
                 "A regular expression in the new coupon validation backtracked catastrophically on long codes.")

        ls = p["leak_server"]
        leak = threshold_events(ls, ("mem_pct", "cpu_pct"), p["leak_cause_change"]["finished_at"])
        restarts = p["restart_events"]
        trigger = restarts[1] if len(restarts) > 1 else (restarts or leak)[0]
        fixed = p["leak_fix_change"]["finished_at"]
        incident(f"payment-api on {ls['hostname']} restarted repeatedly by the OOM killer", "sev1", trigger,
                 leak + restarts, self.on_grid(fixed + self.window * 0.04), "payment-api", "app_instance",
                 p["leak_instance"]["id"], "payments", p["leak_cause_change"], p["leak_fix_change"],
                 f"Memory on {ls['hostname']} grew steadily after the payment-api deploy until the OOM killer "
                 f"ended the JVM ({len(restarts)} restarts); payments in flight failed at each restart.",
                 "The new settlement lookup cache had no size bound; fixed in the next patch release.")

        ds, db = p["disk_server"], p["disk_db"]
        disk = threshold_events(ds, ("disk_pct",), p["disk_cause_change"]["finished_at"])
        incident(f"settledb disk on {ds['hostname']} almost full", "sev2",
                 next(e for e in disk if e["severity"] == "critical"), disk,
                 p["disk_fix_change"]["finished_at"] + 25 * MINUTE, "settlement-batch", "database", db["id"], "dba",
                 p["disk_cause_change"], p["disk_fix_change"],
                 f"The data volume of {ds['hostname']} filled up over days (warning at 85% was not acted on) and "
                 "reached 95%; settlement writes would have stopped at 100%.",
                 "After the WAL archive target moved, archive_command pointed at a missing path, so PostgreSQL kept "
                 "every WAL segment in pg_wal.")

        burst, bastion = p["burst_events"], p["bastion"]
        incident(f"SSH brute force against {bastion['hostname']} from 203.0.113.77", "sev3", burst[9], burst,
                 p["block_change"]["finished_at"] + 10 * MINUTE, "bastion", "server", bastion["id"], "security",
                 None, p["block_change"],
                 f"{len(burst)} failed SSH logins for common user names in 20 minutes from one external address.",
                 "Internet scanner; the bastion's SSH port was reachable from outside through a legacy NAT rule.")

        bdb = p["backup_db"]
        incident(f"Nightly backup of {bdb['name']} failed", "sev3", p["backup_failed"],
                 [p["backup_failed"], p["backup_rerun"]], p["backup_rerun"]["ts"] + 10 * MINUTE, "member-api",
                 "database", bdb["id"], "dba", None, p["backup_fix_change"],
                 f"The nightly full backup of {bdb['name']} stopped with 'no space left on device'; "
                 "a manual backup succeeded after the volume was extended.",
                 "The backup volume was sized for 2 TB of retained backups; the database outgrew it.")
        self.incident_rows = incidents

    # ----------------------------------------------------------------- output
    def finalise(self):
        self.changes.sort(key=lambda c: (c["started_at"], c["summary"]))
        for c in self.changes:
            c["id"] = self.new_id("chg")
        self.incident_rows.sort(key=lambda i: i["opened_at"])
        for i in self.incident_rows:
            i["id"] = self.new_id("inc")
        self.events = [e for e in self.events if self.in_window(e["ts"])]
        self.events.sort(key=lambda e: (e["ts"], e["source_type"], e["source_id"], e["type"], e["message"]))
        for e in self.events:
            e["id"] = self.new_id("evt")
        for e in self.events:
            change, incident = e.pop("_change"), e.pop("_incident")
            e["change_id"] = change["id"] if change else None
            e["incident_id"] = incident["id"] if incident else None
            e["ts"] = iso(e["ts"])
        for i in self.incident_rows:
            i["trigger_event_id"] = i.pop("_trigger")["id"]
            cause, fix = i.pop("_cause"), i.pop("_fix")
            i["cause_change_id"] = cause["id"] if cause else None
            i["resolution_change_id"] = fix["id"] if fix else None
            for key in ("opened_at", "acknowledged_at", "resolved_at"):
                i[key] = iso(i[key]) if i[key] else None
        for c in self.changes:
            c["started_at"], c["finished_at"] = iso(c["started_at"]), iso(c["finished_at"])
        self.t["changes"], self.t["events"], self.t["incidents"] = self.changes, self.events, self.incident_rows
        for s in self.t["servers"]:
            s["tags"] = ",".join(s["tags"])
        for table in self.t.values():
            for row in table:
                for key in [k for k in row if k.startswith("_")]:
                    del row[key]

    def build(self):
        self.build_catalog()
        self.build_compute()
        self.server_by_id = {s["id"]: s for s in self.t["servers"]}
        self.app_name = {row["id"]: name for name, row in self.apps.items()}
        self.build_network()
        self.build_relations()
        self.plan()
        self.mark_maintenance()
        self.build_changes()
        self.build_metrics()
        self.build_events()
        self.build_incidents()
        self.finalise()
        return self.t

    def mark_maintenance(self):
        """Two prod servers in maintenance, none of them monitored or part of a planted incident."""
        rng = self.rng("maintenance")
        busy = {s["id"] for s, _ in self.monitored()} | {self.p["bastion"]["id"]}
        candidates = [s for s in self.t["servers"] if s["environment"] == "prod" and s["status"] == "running"
                      and s["role"] in ("was", "web") and s["id"] not in busy]
        for s in rng.sample(candidates, min(2, len(candidates))):
            s["status"] = "maintenance"
            for i in self.t["app_instances"]:
                if i["server_id"] == s["id"]:
                    i["status"] = "stopped"


def write_tables(out, tables):
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        lines = [json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for row in tables[name]]
        text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
        (out / f"{name}.json").write_bytes(text.encode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder to write <table>.json into")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--start", type=parse_time, default=parse_time("2026-11-20T00:00:00Z"),
                        help="start of the window, ISO-8601 UTC (default 2026-11-20T00:00:00Z)")
    parser.add_argument("--days", type=int, default=7, help="length of the window in days, 3..60 (default 7)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies servers, monitored servers and background activity, 0.5..20 (default 1)")
    args = parser.parse_args(argv)
    if not 3 <= args.days <= 60:
        parser.error("--days must be 3..60 (the planted incidents need three days)")
    if not 0.5 <= args.scale <= 20:
        parser.error("--scale must be 0.5..20")
    tables = Estate(args.seed, args.start, args.days, args.scale).build()
    write_tables(args.out, tables)
    return 0


if __name__ == "__main__":
    sys.exit(main())
