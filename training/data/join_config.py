"""The ``[[joins]]`` sections of a mapping config: lookup tables (accounts, products, owners or teams)
joined onto the leads by a key, whose columns become profile columns like any other.

```toml
[[joins]]
file = "accounts.csv"
on = "Account ID"            # the leads file's key column
key = "Id"                   # the lookup file's key column (default: the same name as ``on``)
categorical = ["Industry"]
numeric = ["Employees"]
prefix = "account_"          # output names: prefix + column, unless ``rename`` names one
max_unmatched_share = 0.05   # more leads whose key matches no row: the import fails
```

Applied by ``training.data.joins``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from training.config_errors import KeyProblem
from training.data.contract import KnownAt
from training.data.mapping_sections import RESERVED_NAMES, ColumnList, ColumnName, FileSection, ValueMap
from training.data.number_format import NumberFormatKeys

#: Leads whose key matches no lookup row, as a share of the leads with a key, above which a join fails.
DEFAULT_MAX_UNMATCHED_SHARE = 0.05


class JoinMapping(FileSection, NumberFormatKeys):
    """One lookup table joined onto the leads (see the module docstring)."""

    file: ColumnName
    on: ColumnName
    key: ColumnName | None = None
    categorical: ColumnList = ()
    numeric: ColumnList = ()
    prefix: str = ""
    rename: ValueMap = Field(default_factory=dict)
    #: lookup column -> when it is known (default creation; after_contact: imported, never a feature)
    known_at: dict[str, KnownAt] = Field(default_factory=dict)
    max_unmatched_share: float = Field(default=DEFAULT_MAX_UNMATCHED_SHARE, ge=0, le=1)

    @property
    def lookup_key(self) -> str:
        """The lookup file's key column."""
        return self.key or self.on

    @property
    def columns(self) -> tuple[str, ...]:
        """The lookup columns taken, categorical first."""
        return (*self.categorical, *self.numeric)

    def output_name(self, column: str) -> str:
        """The name a taken column gets among the leads' profile columns."""
        return self.rename.get(column, self.prefix + column)

    @model_validator(mode="after")
    def _consistent(self) -> JoinMapping:
        if not self.columns:
            raise KeyProblem("categorical", "a join takes at least one column (categorical or numeric)")
        both = sorted(set(self.categorical) & set(self.numeric))
        if both:
            raise KeyProblem("numeric", f"{both} are already listed under 'categorical'")
        if self.lookup_key in self.columns:
            raise KeyProblem("key", f"the key column {self.lookup_key!r} cannot also be a taken column")
        for key, columns in (("rename", self.rename), ("known_at", self.known_at)):
            for column in columns:
                if column not in self.columns:
                    raise KeyProblem(f"{key}.{column}", "is not a categorical or numeric column of this join")
        reserved = sorted({self.output_name(column) for column in self.columns} & RESERVED_NAMES)
        if reserved:
            raise KeyProblem("rename", f"{reserved} are names the data contract reserves")
        return self
