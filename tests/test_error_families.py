"""One root for the core's errors: every exception class the core defines is a
`SwitchboardError` of one family, and the API maps families (one status each), never classes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import switchboard
from switchboard import errors
from switchboard.providers.base import ProviderRejected, WebhookRejected

FAMILIES = (errors.NotFound, errors.Unauthenticated, errors.Forbidden, errors.Refused, errors.Conflict, errors.Gone,
            errors.PreconditionRequired, errors.PreconditionFailed, errors.Limited, errors.Unavailable, errors.Upstream)


def _core_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(switchboard.__path__, "switchboard."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                found.append(cls)
    return found


def test_every_core_error_has_the_root_and_a_family():
    classes = _core_exceptions()
    assert len(classes) > 30
    rootless = [c.__qualname__ for c in classes if not issubclass(c, errors.SwitchboardError)]
    assert rootless == [], f"core errors outside SwitchboardError: {rootless}"
    def grouping(c: type) -> bool:  # a name for sharper errors (InvitationError), each of a family
        return bool(c.__subclasses__()) and all(issubclass(s, FAMILIES) for s in c.__subclasses__())

    familyless = [c.__qualname__ for c in classes if c is not errors.SwitchboardError and c not in FAMILIES
                  and not issubclass(c, FAMILIES) and not grouping(c)]
    assert familyless == [], f"core errors in no family: {familyless}"


def test_the_api_maps_families_not_classes():
    from edge_functions.api.errors import STATUS, from_exception

    assert set(STATUS) == set(FAMILIES)
    # a platform that refused our key, a forged webhook: each answered by its family's status,
    # in our words only
    response = from_exception(ProviderRejected("retell", "Retell refused the key (401) during create-agent", status_code=401))
    assert response.status_code == 502 and b"Retell refused the key" in response.body
    assert from_exception(WebhookRejected("signalwire: signature does not match")).status_code == 401


def test_an_unavailable_cause_stays_in_the_log():
    from edge_functions.api.errors import UNAVAILABLE, from_exception
    from switchboard.settings import ConfigurationError

    response = from_exception(ConfigurationError("ENCRYPTION_KEYS is empty: give at least one kid:base64(32 bytes)"))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert UNAVAILABLE.encode() in response.body and b"ENCRYPTION_KEYS" not in response.body
