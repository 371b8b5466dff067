"""Pydantic validation errors of a config file, as (key path, problem) pairs a user can act on.

Both config formats (the training config and the mapping config) are pydantic models with
``extra="forbid"``. Their errors are turned into messages that name the key's dotted path, as the user
wrote it in the TOML file, and say what is wrong in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

#: Union members chosen by a discriminator appear in pydantic's error locations; a user never wrote them.
UNION_TAGS = frozenset({"column", "generator"})


class KeyProblem(ValueError):
    """Raised by a validator to blame a particular key (relative to the model being validated)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: the key's dotted path, pydantic's error type, and the sentence to show."""

    key: str
    kind: str
    problem: str
    #: for an unknown key: the keys allowed in its section
    allowed: tuple[str, ...] = ()


def config_problems(error: ValidationError, root: type[BaseModel]) -> list[ConfigProblem]:
    """Every problem in ``error``, in the order pydantic found them."""
    return [_problem(detail, root) for detail in error.errors(include_url=False)]


def _problem(detail: ErrorDetails, root: type[BaseModel]) -> ConfigProblem:
    location: list[str] = []
    for part in map(str, detail["loc"]):
        if not (location and location[-1] == "lead_id" and part in UNION_TAGS):
            location.append(part)
    kind = detail["type"]
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, KeyProblem):
        return ConfigProblem(".".join([*location, cause.key]), kind, cause.problem)
    key = ".".join(location)
    value = detail.get("input")
    if kind == "extra_forbidden":
        section = _section_model(root, location[:-1])
        allowed = tuple(_keys(section)) if section is not None else ()
        return ConfigProblem(key, kind, "is not a known setting", allowed)
    if kind == "missing":
        return ConfigProblem(key, kind, "is required but missing")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return ConfigProblem(key, kind, "must be a table")
    if kind == "string_type":
        return ConfigProblem(key, kind, f"must be a string, not {value!r}")
    if kind in ("list_type", "tuple_type"):
        return ConfigProblem(key, kind, f"must be a list, not {value!r}")
    message = detail["msg"].removeprefix("Value error, ")
    return ConfigProblem(key, kind, f"{message[0].lower()}{message[1:]}, not {value!r}")


def _keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _section_model(root: type[BaseModel], path: list[str]) -> type[BaseModel] | None:
    """The pydantic model of the section at ``path`` (e.g. ``["threshold"]``), if it is one."""
    model: type[BaseModel] = root
    for part in path:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        found = _models_in(fields[part].annotation) if part in fields else []
        if not found:
            return None
        model = found[0]
    return model


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through ``X | None``, unions and ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]
