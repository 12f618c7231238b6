#!/usr/bin/env python3
"""Writes pageledger's JSON Schema (draft 2020-12) for every -j record to
stdout: python3 schema/mkschema.py > schema/pageledger.schema.json.

Kept as code so that the shapes shared by several records (RSS figures, a
range row, a caller) are written once. Written from user/output/jsonl.c,
field by field; the e2e suite holds every record it reads to the result,
and tests/e2e/test_install.py that the committed file is this output."""
import json
U = {"type": "integer", "minimum": 0}
S = {"type": "integer"}
STR = {"type": "string"}
B = {"type": "boolean"}
def obj(props, required=None, extra=False):
    o = {"type": "object", "properties": props, "additionalProperties": extra}
    o["required"] = sorted(props) if required is None else sorted(required)
    return o
def nullable(ref):
    return {"oneOf": [{"type": "null"}, ref]}
R = lambda name: {"$ref": f"#/$defs/{name}"}
defs = {}
defs["rss"] = obj({"anon": S, "file": S, "shmem": S, "swap": S})
defs["rss_total"] = obj({"anon": S, "file": S, "shmem": S, "swap": S, "resident": S})
defs["header"] = None
defs["frame"] = obj({"addr": U, "func": {"type": ["string", "null"]}, "offset": U,
                     "module": {"type": ["string", "null"]}, "file": STR, "line": S,
                     "inlined": B}, required=["addr", "func", "offset", "module"])
defs["caller"] = obj({"class": STR, "site": {"type": ["string", "null"]},
                      "frames": {"type": "array", "items": R("frame")}})
defs["stat"] = {"calls": U, "errors": U, "bytes": U, "rss_released": U, "rss_gained": U,
                "rss_delta": R("rss")}
defs["go_figures"] = {"inuse": U, "idle": U, "released": U, "retained": U, "inuse_resident": U}
go_range = obj({"base": U, "limit": U, **defs["go_figures"]})
defs["go_heap"] = nullable(obj({"version": STR, **defs["go_figures"], "n_ranges": U,
                                "ranges": {"type": "array", "maxItems": 8, "items": go_range}}))
kernel_view = obj({"anon": S, "file": S, "shmem": S, "swap": S, "resident": S,
                   "lazy_free": S, "anon_huge": S},
                  required=["anon", "file", "shmem", "swap", "resident"])
balance_fields = {"when": {"enum": ["attach", "interval", "end"]}, "ledger": R("rss_total"),
                  "kernel": kernel_view, "diff": R("rss"), "settled": B, "exact": B,
                  "closure": R("rss"), "closed": B, "go_heap": R("go_heap")}
balance_required = ["when", "ledger", "kernel", "diff", "settled", "exact", "go_heap"]
defs["balance_fields"] = obj(balance_fields, required=balance_required)
known = {"type": ["integer", "null"], "minimum": 0}
range_body = {"mapped": U, "seeded": U, "faulted": U,
              "advised": {"type": "object", "additionalProperties": U,
                          "propertyNames": {"enum": ["MADV_DONTNEED", "MADV_FREE", "MADV_PAGEOUT", "MADV_COLD", "MADV_REMOVE", "MADV_COLLAPSE", "other"]}},
              "released": U, "lazy_pending": U, "reclaimed": U, "refaulted": U, "refaults": U,
              "refault_delay_min_ns": U, "refault_delay_mean_ns": U, "refault_delay_max_ns": U,
              "collapsed": obj({"madvise": U, "khugepaged": U}),
              "kernel": obj({"rss": known, "lazy_free": known, "anon_huge": known})}
defs["range_total"] = obj(range_body)
defs["range_row"] = obj({"start": U, "end": U, "name": STR, **range_body})
hdr = {"type": STR, "ts_ns": U, "pid": U, "tid": U}
syscalls = ["mmap", "munmap", "madvise", "mremap", "brk", "process_madvise"]
call_common = {**hdr, "type": {"enum": syscalls}, "comm": STR, "addr": U, "len": U, "ret": S,
               "error": STR, "rss_delta": R("rss"), "rss_known": B, "rss_exact": B,
               "duration_ns": U, "caller": R("caller"),
               # per syscall (see the man page's OUTPUT): mmap, mremap, brk, process_madvise
               "prot": STR, "flags": STR, "fd": S, "offset": U,
               "old_addr": U, "old_len": U, "new_len": U,
               "requested": U, "old_brk": U, "new_brk": U, "brk_delta": S,
               "target_pid": U, "pidfd": S, "vlen": U, "iov_read": U, "advice": STR}
per_sys = {
    "mmap": ["prot", "flags", "fd", "offset"],
    "mremap": ["old_addr", "old_len", "new_len", "flags"],
    "brk": ["requested", "old_brk", "new_brk", "brk_delta"],
    "process_madvise": ["target_pid", "pidfd", "vlen", "iov_read", "advice"],
    "madvise": ["advice"],
    "munmap": [],
}
base_req = ["type", "ts_ns", "pid", "tid", "comm", "addr", "len", "ret", "rss_delta",
            "rss_known", "rss_exact", "duration_ns"]
def record(type_, props, required=None):
    p = {**hdr, **props, "type": {"const": type_}}
    return obj(p, required=(["type", "ts_ns", "pid", "tid"] + (required or list(props))))
records = {}
for sc, extra in per_sys.items():
    allowed = {k: v for k, v in call_common.items()
               if k in base_req or k in ("error", "caller") or k in extra}
    allowed["type"] = {"const": sc}
    records[sc] = obj(allowed, required=base_req + extra)
records["start"] = record("start", {"schema_version": {"const": 1}, "comm": STR, "spawned": B,
                                    "rss": R("rss_total"), "realtime_ns": U, "host": STR,
                                    "kernel": STR, "version": STR})
records["exec"] = record("exec", {"comm": STR, "rss": R("rss_total")})
records["exit"] = record("exit", {"wait_status": S, "rss": R("rss_total")})
records["rss_change"] = record("rss_change", {"cause": STR, "rss_delta": R("rss"),
                                              "updates": U})
records["balance"] = record("balance", balance_fields, required=balance_required)
records["ranges"] = record("ranges", {"when": STR, "settled": B, "exact": B,
                                      "ranges": {"type": "array", "items": R("range_row")},
                                      "mapped": R("range_total"), "unmapped": R("range_total")})
stat_row = lambda extra: obj({**extra, **defs["stat"]})
advice = {"type": ["string", "null"]}
diag = obj({"source": {"enum": ["kernel", "ledger"]}, "resident": S, "in_use": S,
            "lazy_free": {"type": ["integer", "null"]}, "thp_filled": S, "file": S,
            "shmem": S, "anon_huge": S, "swap": S,
            "churn": nullable(obj({"refaulted": S, "refaults": U, "delay_min_ns": U,
                                   "delay_mean_ns": U})),
            "go_heap": nullable(obj({"inuse": S, "retained": S, "other": S})),
            "hints": {"type": "array", "items": STR}},
           required=["source", "resident", "in_use", "lazy_free", "thp_filled", "file",
                     "shmem", "swap", "churn", "go_heap", "hints"])
summary_props = {
    "comm": STR, "duration_ns": U,
    "syscalls": {"type": "array", "items": stat_row({"syscall": {"enum": syscalls},
                                                     "advice": advice})},
    "total": obj(defs["stat"]),
    "callers": {"type": "array", "items": stat_row({"class": STR, "syscall": {"enum": syscalls},
                                                    "advice": advice})},
    "call_sites": {"type": "array", "maxItems": 20,
                   "items": stat_row({"site": STR, "module": STR, "class": STR,
                                      "syscall": {"enum": syscalls}})},
    "lazy_free": obj({"advised": U, "released_at_call": U, "resident_after_call": U}),
    "rss_changes": {"type": "array", "items": obj({"cause": STR, "rss_delta": R("rss"),
                                                   "updates": U})},
    "diagnosis": diag,
    "ranges": obj({"top": {"type": "array", "maxItems": 20, "items": R("range_row")},
                   "mapped": R("range_total"), "unmapped": R("range_total")}),
    "page_faults": U,
    "rss": obj({"start": R("rss_total"), "end": R("rss_total"), "peak": R("rss_total"),
                "peak_resident": S}),
    "other_tasks": obj({"updates": U, "rss_delta": R("rss")}),
    "exited": B, "wait_status": S, "exit_teardown": R("rss"),
    "balance": R("balance_fields"),
    "events": U, "lost_events": U, "lost_ringbuf": U, "lost_untracked": U,
    "stacks_dropped": U, "chunks_dropped": U, "marks_truncated": U, "sites_dropped": U,
    "ranges_alloc_failures": U, "probes_skipped": U, "bad_records": U, "balances_off": U,
    "symbol_cache": obj({"hits": U, "misses": U}), "stacks_captured": U,
    "rss_inexact_calls": U, "rss_inexact_updates": U, "rss_inexact_late": U,
    "rss_robbed_folds": U, "closure": R("rss"), "closed": B,
    "tracer": obj({"maxrss": U}),
}
optional = {"ranges", "wait_status", "exit_teardown", "balance"}
records["summary"] = record("summary", summary_props,
                            required=[k for k in summary_props if k not in optional])
del defs["header"]
schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pageledger -j records, schema_version 1",
    "description": "One JSON object per line; its type names which of the record schemas "
                   "below it follows. Sizes are bytes, times CLOCK_MONOTONIC ns. The man "
                   "page's OUTPUT section says what each field means.",
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": sorted(records)}},
    "allOf": [{"if": {"properties": {"type": {"const": t}}},
               "then": {"$ref": f"#/$defs/record_{t}"}} for t in sorted(records)],
    "$defs": {**{k: v for k, v in defs.items() if k not in ("stat", "go_figures")},
              **{f"record_{t}": v for t, v in records.items()}},
}
print(json.dumps(schema, indent=1, sort_keys=False))
