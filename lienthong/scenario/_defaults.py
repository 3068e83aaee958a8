"""Every default of a scenario, in one place, per scenario kind.

``hub``: a national-hub situation; figures from the world name their source
(../shared/data/FIGURES.md, EDXML.md, VXP-API.md); the rest are stated assumptions.
``queue``: a pure queueing configuration for checks against theory — Poisson arrivals at a
flat rate, fan-out 1, no attachments, no network, no statuses, no polling, no commit, no
admission limit; only the worker station has a service time.
"""

from __future__ import annotations

import tomllib
from typing import Any

__all__ = ["defaults_for"]

_HUB = """
outages = []  # [{ start = "10h", duration = "2h" }]: hub down windows, not overlapping

[scenario]
name = "unnamed"
kind = "hub"
description = ""

[run]
seed = 1
start = 2022-07-04T00:00:00   # a Monday; the simulated clock starts here (local time, UTC+7)
horizon = "1d"
warmup = "0s"
replications = 5

[topology]
directory = "2019"
kinds = ["hub", "ministry", "central", "province"]

[calendar]
# FIGURES.md: working hours roughly 08:00-12:00 and 13:30-17:00, Monday-Friday
office_hours = ["08:00-12:00", "13:30-17:00"]
working_days = ["mon", "tue", "wed", "thu", "fri"]

[traffic]
# FIGURES.md: July 2022 ≈ 6,400 packages per working day
packages_per_working_day = 6400
# Hourly shares, 00h..23h. Assumption: no hourly series is published (FIGURES.md); the shape
# follows QĐ 28/2018/QĐ-TTg (sent the day it is signed or next working morning): office hours
# with a morning catch-up peak, a lunch dip and a little evening traffic.
daily_profile = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 2.0, 11.0, 13.0, 12.0, 10.0,
                 3.5, 5.0, 10.0, 10.5, 9.5, 5.0, 1.5, 0.7, 0.4, 0.3, 0.2, 0.2]
# Monday first. Assumption: weekend traffic is a few percent of a working day's.
weekly_profile = [1.0, 1.0, 1.0, 1.0, 1.0, 0.05, 0.02]
surges = []
# Priorities 0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ (EDXML.md).
# Assumption: most documents are ordinary.
priority_weights = [0.85, 0.10, 0.03, 0.02, 0.0]

[fanout]
# FIGURES.md: 485,666 received / 135,164 sent in July 2022 → mean 3.593 recipients per
# package, heavy-tailed (a circular to every ministry and province has ~100).
# Zipf truncated at 93 (every other body of the 2019 topology) with exponent 1.9093 has that mean.
dist = "zipf"
exponent = 1.9093
min = 1
max = 93

[attachments]
# FIGURES.md: 1-5 attachments; weights an assumption.
count = { dist = "empirical", values = [1, 2, 3, 4, 5], weights = [0.55, 0.25, 0.10, 0.06, 0.04] }
# Per attachment. Assumption fitted to FIGURES.md: packages of 7.8-368 kB, mostly born-digital
# signed PDFs, scans the large ones.
size_kb = { dist = "lognormal", mean = 90.0, cv = 1.5, min = 5.0, max = 20000.0 }
zip_ratio = 0.97           # assumption: PDFs barely compress
envelope_overhead_kb = 4.0  # assumption: header, trace, signature of a sample package

[statuses]
enabled = true
size_kb = 2.0     # EDXML.md: a status message is ~2 kB
arrived_01 = true # EDXML.md: 01 sent automatically on download
# Delays are counted in office time. Probabilities: EDXML.md "02 for a few percent; 06 only
# on an explicit action, so many documents never reach it"; the numbers are assumptions.
refuse_02 = { probability = 0.03, delay_s = { dist = "lognormal", mean = 7200.0, cv = 1.0 } }
register_03_05 = { probability = 0.95, delay_s = { dist = "lognormal", mean = 5400.0, cv = 1.2 } }
assign_04 = { probability = 0.5, delay_s = { dist = "lognormal", mean = 10800.0, cv = 1.0 } }
complete_06 = { probability = 0.3, delay_s = { dist = "lognormal", mean = 81000.0, cv = 1.0 } }

[polling]
enabled = true
interval_s = 300.0     # assumption: document systems poll the hub every few minutes
simulate_idle = false  # true: simulate every empty poll instead of accounting for them

[network]
enabled = true
hub_ingress_mbps = 1000.0  # assumption
bandwidth_mbps = 20.0      # assumption: an agency's link to the hub
rtt_ms = 30.0              # assumption: within Vietnam to a Hà Nội data centre
# One machine making every agency's requests — a load generator, not the world: each request
# first takes client_cpu_ms + client_per_kb_ms a kB it moves from its client_cpus CPUs, shared
# by every request in flight. 0 CPUs: every agency has a client of its own.
client_cpus = 0
client_cpu_ms = 0.0
client_per_kb_ms = 0.0
[network.by_kind]
[network.by_region]
southeast = { rtt_ms = 45.0 }     # assumption: farther from the Hà Nội hub
mekong-delta = { rtt_ms = 50.0 }

[hub]
workers = 8                # assumption: the real hub's capacity is not published
# How requests share the workers: "fcfs" — each holds a worker, the rest queue in arrival
# order; "ps" — every request inside shares the workers' CPUs equally (processor sharing),
# as an operating system shares a hub's CPUs between its processes and threads.
discipline = "fcfs"
admission_limit = 256      # requests inside the hub; more are refused with 503
rate_limit_per_s = "off"   # per connecting system; "off" or sends/s
rate_burst = 50

[hub.send]
# FIGURES.md: an ASGI server parsing a 6 kB XML body does 2-5 k req/s per core.
receive_ms = { dist = "exponential", mean = 0.15, per_kb = 0.002 }
parse_ms = { dist = "exponential", mean = 0.2, per_kb = 0.01 }
# FIGURES.md: XML-DSig verification ≈ 1.6 ms at 10 kB, 15 ms at 100 kB, 150 ms at 1 MB.
verify_ms = { dist = "deterministic", mean = 0.1, per_kb = 0.149 }
fanout_ms = { dist = "deterministic", mean = 0.05 }  # per recipient; assumption

[hub.commit]
enabled = true
writers = 1
batch_max = 256
# FIGURES.md: SQLite WAL synchronous=FULL ≈ 400 commits/s one per request → 2.5 ms a commit;
# ≈ 8-13 k rows/s with group commit → ≈ 0.1 ms a row.
fsync_ms = { dist = "deterministic", mean = 2.5 }
per_row_ms = 0.1  # the writer's CPU a row
per_kb_ms = 0.0   # the writer's CPU a kB written (shared with the workers when "ps")

[hub.operations]
list_ms = { dist = "exponential", mean = 0.5, per_item = 0.02 }   # assumption
fetch_ms = { dist = "exponential", mean = 0.3, per_kb = 0.005 }   # assumption
ack_ms = { dist = "exponential", mean = 0.3 }                     # assumption

[hub.retry]
# VXP-API.md: clients retry network errors and 5xx after 30, 60, 120, 240, 480 s, then give up.
backoff_s = [30.0, 60.0, 120.0, 240.0, 480.0]

[slo]
hub_transit_p95_s = 10.0       # accepted → available to the recipient
delivery_p95_s = 900.0         # sent → fetched by the recipient (polling dominates)
status_roundtrip_p95_s = 1200.0  # sent → status 01 back at the sender
max_failure_ratio = 0.001
max_refusal_ratio = 0.01
max_giveup_ratio = 0.0
min_achieved_ratio = 0.98
max_late_ratio = 0.01
max_utilisation = "off"
[slo.operations]
send = { p95_ms = 2000.0, p99_ms = 5000.0 }
list = { p95_ms = 500.0, p99_ms = 1000.0 }
fetch = { p95_ms = 2000.0, p99_ms = 5000.0 }
ack = { p95_ms = 500.0, p99_ms = 1000.0 }
status = { p95_ms = 1000.0, p99_ms = 2000.0 }

[load]
start_at = "9h"    # Monday 09:00, the morning peak
speedup = 60.0     # one scenario hour per wall minute
duration = "1m"
rate_per_s = "off"
late_after_ms = 250.0
"""

_QUEUE = """
outages = []

[scenario]
name = "unnamed"
kind = "queue"
description = ""

[run]
seed = 1
start = 2022-07-04T00:00:00
horizon = "1d"
warmup = "0s"
replications = 10

[topology]
directory = "2019"
kinds = ["hub", "ministry", "central", "province"]

[calendar]
office_hours = ["00:00-24:00"]
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[traffic]
packages_per_working_day = 86400
daily_profile = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
weekly_profile = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
surges = []
priority_weights = [1.0, 0.0, 0.0, 0.0, 0.0]

[fanout]
dist = "fixed"
value = 1

[attachments]
count = { dist = "fixed", value = 0 }
size_kb = { dist = "deterministic", mean = 0.0 }
zip_ratio = 1.0
envelope_overhead_kb = 0.0

[statuses]
enabled = false
size_kb = 0.0
arrived_01 = false
refuse_02 = { probability = 0.0, delay_s = { dist = "deterministic", mean = 0.0 } }
register_03_05 = { probability = 0.0, delay_s = { dist = "deterministic", mean = 0.0 } }
assign_04 = { probability = 0.0, delay_s = { dist = "deterministic", mean = 0.0 } }
complete_06 = { probability = 0.0, delay_s = { dist = "deterministic", mean = 0.0 } }

[polling]
enabled = false
interval_s = 300.0
simulate_idle = false

[network]
enabled = false
hub_ingress_mbps = 1000.0
bandwidth_mbps = 1000.0
rtt_ms = 0.0
client_cpus = 0
client_cpu_ms = 0.0
client_per_kb_ms = 0.0
[network.by_kind]
[network.by_region]

[hub]
workers = 1
discipline = "fcfs"
admission_limit = "off"
rate_limit_per_s = "off"
rate_burst = 1

[hub.send]
receive_ms = { dist = "deterministic", mean = 0.0 }
parse_ms = { dist = "exponential", mean = 1000.0 }
verify_ms = { dist = "deterministic", mean = 0.0 }
fanout_ms = { dist = "deterministic", mean = 0.0 }

[hub.commit]
enabled = false
writers = 1
batch_max = 1
fsync_ms = { dist = "deterministic", mean = 0.0 }
per_row_ms = 0.0
per_kb_ms = 0.0

[hub.operations]
list_ms = { dist = "deterministic", mean = 0.0 }
fetch_ms = { dist = "deterministic", mean = 0.0 }
ack_ms = { dist = "deterministic", mean = 0.0 }

[hub.retry]
backoff_s = []

[slo]
hub_transit_p95_s = "off"
delivery_p95_s = "off"
status_roundtrip_p95_s = "off"
max_failure_ratio = "off"
max_refusal_ratio = "off"
max_giveup_ratio = "off"
min_achieved_ratio = "off"
max_late_ratio = "off"
max_utilisation = "off"
[slo.operations]

[load]
start_at = "0s"
speedup = 1.0
duration = "1m"
rate_per_s = "off"
late_after_ms = 250.0
"""

_TEXT = {"hub": _HUB, "queue": _QUEUE}
KINDS = tuple(_TEXT)


def defaults_for(kind: str) -> dict[str, Any]:
    """A fresh copy of the raw defaults of scenario ``kind`` (``hub`` or ``queue``)."""
    return tomllib.loads(_TEXT[kind])
