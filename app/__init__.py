"""Switchboard's admin app (Reflex): a thin shell over `switchboard/`.

Every read and write goes through core functions with the signed-in user's claims
(`db.as_user(claims)`), so the database's row-level security protects every page.
"""
