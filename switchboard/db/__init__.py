from switchboard.db.pool import Database, database_unavailable, database_url

__all__ = ["Database", "database_unavailable", "database_url"]
