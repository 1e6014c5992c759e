"""One spider per source type: feed, sitemap, listing, forum, export."""
