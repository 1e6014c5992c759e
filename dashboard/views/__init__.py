"""The dashboard pages, one per view; dashboard/app.py registers them with st.navigation."""
