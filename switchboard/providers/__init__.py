"""Platform providers: one folder per platform, one registry (see base.py)."""
