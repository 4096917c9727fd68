"""A throwaway fifth platform, built by the README's recipe (a folder, one registry line, a price
seed) to prove that nothing else needs touching: `tests/providers/test_fifth_platform.py`."""
