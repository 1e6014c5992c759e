"""The base every stage builds on: warehouse, migrations, config, documents, periods, privacy."""
