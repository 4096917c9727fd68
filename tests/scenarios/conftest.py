"""Fixtures of the scenario tests: the worker's real text endpoint and the API, as the
conversation tests have them."""

from tests.conversations.conftest import api, worker_chat  # noqa: F401
