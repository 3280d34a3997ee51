"""Base of every request body the service accepts.

Unknown fields are refused rather than ignored, so a typo in a client is a 422 naming the
field instead of silently doing something else. Text may not contain NUL characters:
PostgreSQL cannot store them, and no client has a legitimate use for them.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def contains_nul(value: Any) -> bool:
    """True if `value`, or any string inside it, has a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(item) for item in value)
    return False


class Input(BaseModel):
    """Request body: strict about fields, free of NUL characters."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value
