"""Durable label storage: ``open_store(target) -> Store`` on SQLite or PostgreSQL (design §5).

``docs/storage.md`` describes the engines, tables, durability guarantees and errors.
"""

from rank_widget.store.access import AccessDenied
from rank_widget.store.core import AppendResult, Store, open_store
from rank_widget.store.engine import StoreError
from rank_widget.store.tables import STORE_SCHEMA_VERSION

__all__ = ["STORE_SCHEMA_VERSION", "AccessDenied", "AppendResult", "Store", "StoreError", "open_store"]
