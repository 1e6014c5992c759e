"""Warehouse page: the tables and example queries for analysts."""

from __future__ import annotations

import streamlit as st

from dashboard import session

EXAMPLES = {
    "The current radar, most emergent first": """\
SELECT label, service_area, ring, stage, score, volume, sources, movement
FROM radar_latest WHERE ring IS NOT NULL ORDER BY score DESC;""",
    "A topic's passages per month and channel": """SELECT period_start, channel, passages, sources, authors
FROM topic_trends WHERE label ILIKE '%heat pump%' ORDER BY period_start, channel;""",
    "Topics carried by one voice (narrow voice)": """SELECT label, authors, top_author_share, citizen_share
FROM radar_latest WHERE narrow_voice ORDER BY score DESC;""",
    "Current triage status per topic": """SELECT topic_label, status, owner, who, "at", note
FROM triage_current ORDER BY "at" DESC;""",
    "Documents per channel and month": """\
SELECT channel, date_trunc('month', coalesce(published_at, fetched_at)) AS month,
       count(*) AS documents
FROM documents GROUP BY ALL ORDER BY month, channel;""",
    "Distinct sources carrying each topic (syndication counted once per source)": """\
SELECT t.label, count(DISTINCT ds.source) AS sources
FROM passage_topics pt JOIN passages p USING (passage_id)
JOIN document_sources ds USING (doc_id) JOIN topics t USING (topic_id)
GROUP BY t.label ORDER BY sources DESC LIMIT 20;""",
}


def render() -> None:
    """The warehouse page."""
    st.title("Warehouse")
    path = session.reader().path
    st.markdown("Everything the radar knows is in one DuckDB file. Analysts can query it "
                "directly, read-only, while the pipeline runs; keep sessions short, since an "
                "open session makes the pipeline wait. Every table and column is described "
                "in `docs/warehouse.md`.")
    st.code(f'duckdb -readonly "{path}"', language="sh")
    st.code(f'from radar.core import warehouse\n\nwarehouse.query_df("{path}", '
            '"SELECT * FROM radar_latest WHERE ring = ?", ["Act"])', language="python")
    st.caption("For long analyses take a copy: `radar export --format parquet DIR`.")
    tables = session.load("warehouse_tables")
    st.subheader("Tables and views")
    st.dataframe(tables, hide_index=True, width="stretch",
                 column_config={"rows": st.column_config.NumberColumn("rows (estimate)")})
    st.subheader("Example queries")
    for title, sql in EXAMPLES.items():
        st.markdown(f"**{title}**")
        st.code(sql, language="sql")


render()
