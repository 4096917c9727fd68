"""Catalog entries of the cloud vendors that have a module of their own, one module per vendor
(its services, schemas, defaults, price units). Their prices are seeded by migrations
(`supabase/migrations/20261203001400_vendor_prices.sql`), each with its date and public source.

Imported by `switchboard.pipeline.catalog` only (they build on its models): read the catalog
through `catalog.CATALOG` / `catalog.BY_KEY`, never these modules directly."""

from switchboard.pipeline.vendors import anthropic, azure, google, groq, openrouter

ENTRIES = [*anthropic.ENTRIES, *groq.ENTRIES, *openrouter.ENTRIES, *azure.ENTRIES, *google.ENTRIES]
