"""The dispatch metadata contract shared with the LiveKit adapter."""

import uuid

import pytest

from switchboard.providers.livekit.dispatch import DispatchMetadata, InvalidDispatchMetadata


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
        ('{"organization_id": "%s"}' % uuid.UUID(int=7), "agent_config_id: Field required"),
    ],
)
def test_bad_metadata_gets_a_clear_error(raw, message) -> None:
    with pytest.raises(InvalidDispatchMetadata, match=message):
        DispatchMetadata.parse(raw)


def test_per_call_ids_come_from_the_sip_participant_but_never_another_organisation() -> None:
    from switchboard.providers.livekit.compile import ATTRIBUTE_PREFIX

    meta = DispatchMetadata(organization_id=uuid.uuid4(), agent_config_id=uuid.uuid4())
    record = uuid.uuid4()
    attrs = {
        "sip.phoneNumber": "+15551230001",
        f"{ATTRIBUTE_PREFIX}organization_id": str(meta.organization_id),
        f"{ATTRIBUTE_PREFIX}call_record_id": str(record),
        f"{ATTRIBUTE_PREFIX}telephony_call_id": "sw-call-1",
    }
    merged = meta.with_call_attributes(attrs, ATTRIBUTE_PREFIX)
    assert (merged.call_record_id, merged.telephony_call_id) == (record, "sw-call-1")
    assert merged.organization_id == meta.organization_id
    spoofed = {**attrs, f"{ATTRIBUTE_PREFIX}organization_id": str(uuid.uuid4())}
    assert meta.with_call_attributes(spoofed, ATTRIBUTE_PREFIX) == meta
    assert meta.with_call_attributes({f"{ATTRIBUTE_PREFIX}call_record_id": "junk"}, ATTRIBUTE_PREFIX) == meta
