"""The application: the CLI, the pipeline, serve and the demo, wiring the stages."""
