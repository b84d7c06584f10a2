#!/usr/bin/env python3
"""Writes mockserve.json, the MockServe dashboard. Run it after editing: python3 grafana/dashboards/generate.py

A script rather than hand-edited JSON: every panel shares the datasource, the instance and replica filter and
the per-model-second conversion, and the grid positions are computed, so a new panel cannot overlap another.

A server with --replicas labels every series with its replica; a single engine's series have no replica label,
which the regex ".*" (the replica variable's All) still matches, so the same panels serve both. Panels split by
instance and replica: without the label, "by (instance, replica)" is "by (instance)".
"""
import json
import os

DS = {"type": "prometheus", "uid": "mockserve-prometheus"}
I = 'instance=~"$instance", replica=~"$replica"'
# Counters grow per wall second; mockserve_time_scale is wall seconds per model second (one series per replica).
PER_MODEL_S = 'on (instance, replica) group_left mockserve_time_scale'
WHO = "{{instance}} {{replica}}"


def per_model_second(counter, by="instance, replica", sel=I):
    return f"sum by ({by}) (rate({counter}{{{sel}}}[1m]) * {PER_MODEL_S})"


def quantile(q, hist, by="instance, replica", sel=I):
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({hist}_bucket{{{sel}}}[1m])))"


def target(expr, legend):
    return {"expr": expr, "legendFormat": legend, "datasource": DS}


panels = []
layout = {"y": 0, "x": 0, "h": 0}
next_id = [1]


def row(title):
    if layout["x"] > 0:
        layout["y"] += layout["h"]
        layout["x"] = 0
    panels.append({"id": next_id[0], "type": "row", "title": title, "collapsed": False,
                   "gridPos": {"x": 0, "y": layout["y"], "w": 24, "h": 1}, "panels": []})
    next_id[0] += 1
    layout["y"] += 1
    layout["h"] = 0


def panel(title, description, targets, unit="short", w=8, h=8, kind="timeseries", stack=False):
    if layout["x"] + w > 24:
        layout["y"] += layout["h"]
        layout["x"] = 0
        layout["h"] = 0
    refs = "ABCDEFGHIJ"
    p = {
        "id": next_id[0],
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": layout["x"], "y": layout["y"], "w": w, "h": h},
        "targets": [dict(refId=refs[i], **t) for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {"lineWidth": 1, "fillOpacity": 30 if stack else 0,
                                                  "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
        # The limits are drawn dashed, beside the live value they bound.
        p["fieldConfig"]["overrides"] = [{
            "matcher": {"id": "byRegexp", "options": "^(limit|capacity|fit).*"},
            "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                           {"id": "custom.lineWidth", "value": 2}],
        }]
    else:
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "none", "textMode": "auto"}
    panels.append(p)
    next_id[0] += 1
    layout["x"] += w
    layout["h"] = max(layout["h"], h)


row("Concurrency: how many users fit, and who waits")
panel("Requests running, waiting, swapped",
      "Running = in the batch; waiting = queued for KV blocks or a slot; swapped = preempted, KV in host memory. "
      "Waiting that never drains means more users than the GPU holds.",
      [target("mockserve:requests_running:sum{" + I + "}", "running " + WHO),
       target("mockserve:requests_waiting:sum{" + I + "}", "waiting " + WHO),
       target("mockserve:requests_swapped:sum{" + I + "}", "swapped " + WHO)])
panel("Sessions resident and swapped, against users that fit",
      "Sessions whose KV is in HBM or in host memory, beside the users with the reference context whose KV fits in HBM.",
      [target(f'sum by (instance, replica, state) (mockserve_sessions{{{I}}})', "{{state}} " + WHO),
       target(f"mockserve_max_concurrent_users{{{I}}}", "fit " + WHO)])
panel("KV cache bytes per tier, against capacity",
      "KV in HBM and host memory beside what each tier holds; HBM at capacity forces swaps or recompute.",
      [target(f"sum by (instance, replica, tier) (mockserve_kv_cache_bytes{{{I}}})", "{{tier}} " + WHO),
       target(f"sum by (instance, replica, tier) (mockserve_kv_cache_capacity_bytes{{{I}}})", "capacity {{tier}} " + WHO)],
      unit="bytes", w=16)
panel("Users that fit (reference context)",
      "The concurrency limit: users with Server:ReferenceContextTokens of context whose KV fits in HBM at once.",
      [target(f"mockserve_max_concurrent_users{{{I}}} * on (instance, replica) group_left (model, gpu) mockserve_build_info",
              "{{model}} on {{gpu}} (" + WHO + ")")],
      kind="stat")

row("Prefilling: prompt tokens per model second, against the compute peak")
panel("Prefill tokens per model second, against peak",
      "Prompt tokens prefilled per model second beside the GPUs' compute peak (weight matmuls only).",
      [target("mockserve:prefill_tokens_per_model_second:rate1m{" + I + "}", "prefill " + WHO),
       target(f"mockserve_limit_prefill_tokens_per_second{{{I}}}", "limit " + WHO)])
panel("TTFT percentiles (model seconds)",
      "Arrival to first token: queueing, swap-in and prefill. Compare p99 with the SLO.",
      [target(quantile(q, "mockserve_time_to_first_token_seconds"), f"p{int(q * 100)} {WHO}")
       for q in (0.5, 0.9, 0.99)], unit="s")
panel("Prefix-cache hit ratio",
      "Share of prompt tokens served from a session's cached KV instead of prefilled.",
      [target(f"sum by (instance, replica) (rate(mockserve_prefix_cache_hit_tokens_total{{{I}}}[1m])) / "
              f"(sum by (instance, replica) (rate(mockserve_prefix_cache_hit_tokens_total{{{I}}}[1m])) + "
              f"sum by (instance, replica) (rate(mockserve_prefill_tokens_total{{{I}}}[1m])))", "hit ratio " + WHO)],
      unit="percentunit")
panel("Turns by cache state, per model second",
      "Where each turn's history was: new, hot (HBM), host (swapped, comes back over PCIe), miss (prefilled again).",
      [target(per_model_second("mockserve_cache_state_total", by="instance, replica, state"), "{{state}} " + WHO)],
      stack=True, w=24)

row("Decoding: output tokens per model second, against the batch's limit")
panel("Generation tokens per model second, against the limit at the current batch",
      "Output tokens per model second beside what the last decode batch size yields at the reference context.",
      [target("mockserve:generation_tokens_per_model_second:rate1m{" + I + "}", "generation " + WHO),
       target(f"mockserve_limit_decode_tokens_per_second{{{I}}}", "limit " + WHO)])
panel("Inter-token latency percentiles (model seconds)",
      "Every gap between consecutive tokens of a request: decode step time, stretched by prefill chunks and swaps.",
      [target(quantile(q, "mockserve_inter_token_latency_seconds"), f"p{int(q * 100)} {WHO}")
       for q in (0.5, 0.9, 0.99)], unit="s")
panel("Decode batch size",
      "Sequences decoded per step: a larger batch amortises the weight reads, so more tokens per second.",
      [target(f"sum by (instance, replica) (rate(mockserve_decode_batch_size_sum{{{I}}}[1m])) / "
              f"sum by (instance, replica) (rate(mockserve_decode_batch_size_count{{{I}}}[1m]))", "mean " + WHO),
       target(quantile(0.99, "mockserve_decode_batch_size"), "p99 " + WHO)])

row("Context switching: KV over the host link, against its bandwidth")
panel("KV swap bytes per model second, against the host link",
      "KV moved out to host memory and back in, each way, beside the host link's bandwidth per direction.",
      [target("mockserve:kv_swap_bytes_per_model_second:rate1m{" + I + "}", "{{direction}} " + WHO),
       target(f"mockserve_limit_host_link_bytes_per_second{{{I}}}", "limit " + WHO)],
      unit="Bps")
panel("Swap time percentiles (model seconds)",
      "How long one swap out or in takes on the host link; a swap-in delays the turn's first token.",
      [target(quantile(q, "mockserve_kv_swap_duration_seconds"), f"p{int(q * 100)} {WHO}")
       for q in (0.5, 0.99)], unit="s")
panel("Context switches and preemptions per model second",
      "KV swaps (out and in), and running requests evicted for lack of HBM by mode (swap or recompute).",
      [target("mockserve:context_switches_per_model_second:rate1m{" + I + "}", "switches " + WHO),
       target(per_model_second("mockserve_preemptions_total", by="instance, replica, mode"), "preempt {{mode}} " + WHO)])
panel("Recomputed tokens per model second",
      "Tokens prefilled again because their KV was dropped: compute spent on work already done once.",
      [target(per_model_second("mockserve_recomputed_tokens_total"), "recomputed " + WHO)], w=24)

row("GPU and requests")
panel("GPU time share by phase",
      "Busy model seconds per model second, by phase: which of prefill, decode and swap the GPU spends itself on.",
      [target(per_model_second("mockserve_gpu_busy_seconds_total", by="instance, replica, phase"), "{{phase}} " + WHO)],
      unit="percentunit", stack=True)
panel("Request outcomes per model second",
      "Finished, cancelled, refused (queue full, session limit, draining), invalid, injected failures.",
      [target(per_model_second("mockserve_requests_total", by="instance, replica, outcome"), "{{outcome}} " + WHO)],
      stack=True)
panel("End-to-end latency and queue time (model seconds)",
      "Arrival to last token of finished requests, and the part of it spent waiting.",
      [target(quantile(0.5, "mockserve_e2e_request_latency_seconds"), "e2e p50 " + WHO),
       target(quantile(0.99, "mockserve_e2e_request_latency_seconds"), "e2e p99 " + WHO),
       target(quantile(0.99, "mockserve_request_queue_seconds"), "queue p99 " + WHO)], unit="s")

row("What the clients saw (mockserve-load), next to the server")
panel("TTFT p99: clients (driver's clock) and server (model seconds)",
      "Clients measure from the intended start, so client-side queueing shows here and not in the server's figure.",
      [target(quantile(0.99, "mockserve_client_time_to_first_token_seconds", by="scenario", sel=""),
              "client p99 {{scenario}}"),
       target(quantile(0.99, "mockserve_time_to_first_token_seconds"), "server p99 " + WHO)], unit="s")
panel("ITL p99: clients (driver's clock) and server (model seconds)",
      "Per-request mean gap at the client beside every gap at the server.",
      [target(quantile(0.99, "mockserve_client_inter_token_latency_seconds", by="scenario", sel=""),
              "client p99 {{scenario}}"),
       target(quantile(0.99, "mockserve_inter_token_latency_seconds"), "server p99 " + WHO)], unit="s")
panel("Output tokens per wall second: clients and server",
      "Tokens clients received in successful requests against tokens the server generated, both per wall second.",
      [target("sum by (scenario) (rate(mockserve_client_output_tokens_total[1m]))", "client {{scenario}}"),
       target(f"sum by (instance, replica) (rate(mockserve_generation_tokens_total{{{I}}}[1m]))", "server " + WHO)])
panel("Client requests by status, per wall second",
      "OK, or the gRPC status a request ended with; RESOURCE_EXHAUSTED is the server refusing.",
      [target("sum by (scenario, status) (rate(mockserve_client_requests_total[1m]))", "{{status}} {{scenario}}")],
      stack=True)
panel("Client load: users, in flight, queued, dropped",
      "The driver's own state: a queue or drops at the in-flight cap mean the driver, not the server, limited the load.",
      [target("sum by (scenario) (mockserve_client_users)", "users {{scenario}}"),
       target("sum by (scenario) (mockserve_client_requests_in_flight)", "in flight {{scenario}}"),
       target("sum by (scenario) (mockserve_client_queued)", "queued {{scenario}}"),
       target("sum by (scenario) (increase(mockserve_client_dropped_total[1m]))", "dropped/min {{scenario}}")])
panel("Schedule lateness p99 (driver's clock)",
      "Actual minus intended start: coordinated omission, if large.",
      [target(quantile(0.99, "mockserve_client_schedule_lateness_seconds", by="scenario", sel=""), "p99 {{scenario}}")],
      unit="s")


def variable(name, label, query):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": f"{name}-var"}, "definition": query,
            "multi": True, "includeAll": True, "allValue": ".*", "refresh": 2, "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


dashboard = {
    "uid": "mockserve",
    "title": "MockServe: the four throughput limits",
    "description": "Concurrency, prefilling, decoding and context switching of a simulated LLM server, each against "
                   "the limit its model and GPU set; rates per model second.",
    "tags": ["mockserve", "llm", "capacity"],
    "schemaVersion": 39,
    "version": 1,
    "editable": True,
    "graphTooltip": 1,
    "refresh": "10s",
    "time": {"from": "now-15m", "to": "now"},
    "timezone": "",
    "templating": {"list": [
        variable("model", "Model", "label_values(mockserve_build_info, model)"),
        variable("gpu", "GPU", 'label_values(mockserve_build_info{model=~"$model"}, gpu)'),
        variable("instance", "Instance", 'label_values(mockserve_build_info{model=~"$model", gpu=~"$gpu"}, instance)'),
        # Empty for servers of one engine, whose series have no replica label; All (.*) still matches them.
        variable("replica", "Replica", 'label_values(mockserve_build_info{model=~"$model", gpu=~"$gpu", instance=~"$instance"}, replica)'),
    ]},
    "annotations": {"list": []},
    "links": [],
    "panels": panels,
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mockserve.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(f"{path}: {sum(1 for p in panels if p['type'] != 'row')} panels")
