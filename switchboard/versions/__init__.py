"""Agent versions (issue #16): every save is a numbered, immutable draft; publishing one makes it
live (the database copies its spec into the agent, which fires the platform sync); rolling back is
publishing an earlier number. `diff` says what changed between two, field by field."""

from switchboard.versions.diff import Change, diff_specs
from switchboard.versions.service import (
    AgentVersion,
    PublishConflict,
    get_version,
    latest_version,
    list_versions,
    publish,
    save_draft,
    version_spec_row,
)

__all__ = ["AgentVersion", "Change", "PublishConflict", "diff_specs", "get_version", "latest_version", "list_versions",
           "publish", "save_draft", "version_spec_row"]
