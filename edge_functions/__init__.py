"""The edge functions: one ASGI app (`edge_functions.app:app`), one module per function, each a
thin shell over the core (`switchboard`)."""
