from switchboard.db.pool import Database, database_url

__all__ = ["Database", "database_url"]
