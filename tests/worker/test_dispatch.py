"""The dispatch metadata contract shared with the LiveKit adapter."""

import uuid

import pytest

from switchboard.pipeline.dispatch import DispatchMetadata, InvalidDispatchMetadata


def test_round_trip_and_unknown_keys_are_ignored() -> None:
    meta = DispatchMetadata(organization_id=uuid.uuid4(), agent_config_id=uuid.uuid4(), telephony_call_id="sw-1")
    parsed = DispatchMetadata.parse(meta.to_json())
    assert parsed == meta
    assert "call_record_id" not in meta.to_json()  # unset fields are not written
    with_extra = meta.to_json()[:-1] + ', "future_field": 1}'
    assert DispatchMetadata.parse(with_extra) == meta


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "has no metadata"),
        (None, "has no metadata"),
        ("{not json", "not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"organization_id": "abc"}', "organization_id"),
        ('{"organization_id": "%s"}' % uuid.uuid4(), "agent_config_id: Field required"),
    ],
)
def test_bad_metadata_gets_a_clear_error(raw, message) -> None:
    with pytest.raises(InvalidDispatchMetadata, match=message):
        DispatchMetadata.parse(raw)
