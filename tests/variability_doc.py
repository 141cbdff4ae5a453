"""The small_gate scenario with every variability field in use (fuzzing and bad-input tests)."""

from __future__ import annotations


def every_field(doc: dict, replay: str) -> dict:
    """``doc`` (small_gate) with every field of issue 15 in use, replaying ``replay``: a
    shared factor (servers, an acceptance's rate, a lane's cap, a stream's demand), inline
    factors of every law, a shared
    acceptance with its own calendar, cap and priority, priority lists, random partial and
    dated stoppages, and a replayed stream."""
    doc["factors"] = {"cn_side": {"cv": 0.2, "autocorrelation": 0.5}}
    doc["acceptances"] = {"pingxiang": {
        "capacity_per_hour": 25, "daily_cap": {"fresh": 25, "total": 60},
        "calendar": "gate_export", "cap_clock_offset_h": 1, "rate_factor": "cn_side",
        "cap_factor": {"law": "empirical", "values": [0.8, 1, 1.2]},
        "priority": [{"cargo": "fresh"}]}}
    lanes = doc["lanes"]
    lanes["main"]["export"] = {"yard": "staging", "acceptance": "pingxiang",
                               "calendar": "gate_export"}
    lanes["smart"]["export"] = {"yard": "staging", "acceptance": "pingxiang"}
    lanes["main"]["import"].update({"rate_factor": {"law": "lognormal", "cv": 0.3},
                                    "cap_factor": "cn_side", "daily_cap": {"total": 70},
                                    "priority": [{"preregistered": True}]})
    doc["stages"]["documents"].update({"servers_factor": "cn_side",
                                       "priority": [{"predeclared": True}, {"cargo": "fresh"}]})
    doc["stages"]["release"]["servers_factor"] = {"law": "gamma", "cv": 0.4}
    doc["arrivals"]["export_fresh"]["daily_factor"] = {"cv": 0.25}
    doc["arrivals"]["export_general"]["daily_factor"] = "cn_side"
    doc["arrivals"]["replayed"] = {"direction": "import", "cargo": "general", "replay": replay}
    doc["stoppages"] = {
        "outage": {"at": ["inspection", "main.import"], "rate_per_day": 0.5,
                   "duration": {"dist": "exponential", "mean": 2, "unit": "h"}, "fraction": 0.5},
        "strike": {"at": ["pingxiang", "smart"],
                   "dated": [{"start": "2024-02-09 06:00", "end": "2024-02-09 12:00"}]},
    }
    return doc
