"""Alert wording follows the radar's per-period movement: a topic is "new" only once."""

from __future__ import annotations

from radar.alerts.compose import items_for
from radar.alerts.reads import RadarTopic
from radar.alerts.triggers import TopicState, Trigger


def _item(movement: str, fresh: bool = False) -> str:
    topic = RadarTopic(TopicState(7, "Heat pumps", "Prepare", 80.0, "environment"),
                       {"movement": movement, "stage": "emerging", "sources": 4})
    trigger = Trigger(7, "entered", "Prepare", None, 80.0)
    return items_for([trigger], {7: topic}, {}, "http://127.0.0.1:8501", fresh=fresh)[0].event_text


def test_entered_is_new_only_when_the_topic_is_new_this_period():
    assert _item("new") == "new on the radar"
    assert _item("back") == "back on the radar"
    # On the previous period's radar already (the subscriber's baseline is older).
    assert _item("unchanged") == "on your radar now"
    assert _item("moved in") == "on your radar now"
    assert _item("new", fresh=True) == "on your radar now"
