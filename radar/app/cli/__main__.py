"""`python -m radar.app.cli` runs the `radar` command (tests and environments without the script)."""

from radar.app.cli import main

main()
