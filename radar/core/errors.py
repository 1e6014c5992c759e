"""What goes wrong with the warehouse, shared by the connection, the locks and the migrations."""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (missing, locked too long, newer than this code)."""


class WarehouseMissing(WarehouseError):
    """No warehouse file yet: run `radar init`."""
