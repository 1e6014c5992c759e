"""What changed between two periods of the radar, with the reason for each change (pure)."""

from __future__ import annotations

import pandas as pd

RINGS = ("Act", "Prepare", "Watch", "Monitor")
CHANGES = ("entered", "moved in", "moved out", "left")
COLUMNS = ["change", "topic_id", "label", "service_area", "ring_before", "ring_after",
           "stage", "score", "reason"]


def _on(radar: pd.DataFrame) -> pd.DataFrame:
    return radar[radar["ring"].isin(RINGS)].set_index("topic_id")


def compare(before: pd.DataFrame, after: pd.DataFrame, after_text: str = "the later period"
            ) -> pd.DataFrame:
    """Topics that entered, moved in, moved out or left between two radars.

    `before` and `after` are period radars (topic_id, label, service_area, ring,
    stage, score, reasons). A topic counts as on a radar when it has a ring.
    The reason of an entry or a move is the later period's reasons; a topic
    that left is explained by its 'left' row when the later period has one.
    """
    b, a = _on(before), _on(after)
    notes = after.set_index("topic_id") if len(after) else pd.DataFrame()
    rows = []
    for tid, row in a.iterrows():
        was = b["ring"].get(tid)
        now = row["ring"]
        if was is None or (isinstance(was, float) and pd.isna(was)):
            change = "entered"
            if row.get("movement") == "back":
                reason_lead = "back on the radar after leaving it"
            else:
                reason_lead = "not on the radar before"
        elif RINGS.index(now) < RINGS.index(was):
            change, reason_lead = "moved in", f"from {was} to {now}"
        elif RINGS.index(now) > RINGS.index(was):
            change, reason_lead = "moved out", f"from {was} to {now}"
        else:
            continue
        rows.append({"change": change, "topic_id": tid, "label": row["label"],
                     "service_area": row["service_area"], "ring_before": was if change != "entered"
                     else None, "ring_after": now, "stage": row.get("stage"),
                     "score": row.get("score"),
                     "reason": f"{reason_lead}: {row.get('reasons') or 'no reasons recorded'}"})
    for tid, row in b.iterrows():
        if tid in a.index:
            continue
        note = notes["reasons"].get(tid) if "reasons" in notes else None
        reason = (note if isinstance(note, str) and note else
                  f"not on the radar in {after_text}: no passages in it or its baseline")
        rows.append({"change": "left", "topic_id": tid, "label": row["label"],
                     "service_area": row["service_area"], "ring_before": row["ring"],
                     "ring_after": None, "stage": row.get("stage"), "score": row.get("score"),
                     "reason": f"was {row['ring']}; {reason}"})
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = {c: i for i, c in enumerate(CHANGES)}
    if out.empty:
        return out
    out["_c"] = out["change"].map(order)
    out["_r"] = out["ring_after"].fillna(out["ring_before"]).map(RINGS.index)
    return out.sort_values(["_c", "_r", "score"], ascending=[True, True, False]).drop(
        columns=["_c", "_r"]).reset_index(drop=True)
