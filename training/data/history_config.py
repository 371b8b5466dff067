"""The ``[profile_history]`` section of a mapping config: a field-history export (Salesforce's
LeadHistory, HubSpot's property history) that gives profile values as of each snapshot's cutoff.

```toml
[profile_history]
file = "lead_history.csv"
lead_id = "LeadId"
field = "Field"              # which leads column changed
old_value = "OldValue"
new_value = "NewValue"
changed_at = "CreatedDate"
fields = { LeadSource = "Lead Source" }   # history field name -> leads column, where they differ
```

Applied by ``training.data.mapping_history``; checked against the leads by
``training.data.profile_history``; used by ``training.features.profile_asof``.
"""

from __future__ import annotations

from pydantic import Field

from training.data.date_formats import DateFormatKeys
from training.data.mapping_sections import ColumnName, FileSection, ValueMap
from training.data.number_format import NumberFormatKeys


class ProfileHistoryMapping(FileSection, DateFormatKeys, NumberFormatKeys):
    """The ``[profile_history]`` section (see the module docstring)."""

    file: ColumnName
    lead_id: ColumnName
    field: ColumnName
    old_value: ColumnName
    new_value: ColumnName
    changed_at: ColumnName
    #: history field name -> the leads file's column it is about (export names); default: the same name
    fields: ValueMap = Field(default_factory=dict)

    def date_columns(self) -> tuple[str, ...]:
        return (self.changed_at,)
