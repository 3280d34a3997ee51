"""Request and response bodies of the accounts API."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ..schemas import Input
from .models import Role

Password = Annotated[str, Field(min_length=12, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RegisterIn(Input):
    email: EmailStr
    password: Password
    full_name: Name


class LoginIn(Input):
    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=128)]


class RefreshIn(Input):
    refresh_token: Annotated[str, Field(min_length=1, max_length=2048)]


class RoleIn(Input):
    role: Role


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the OAuth2 scheme name)
    expires_in: int = Field(description="Seconds until the access token expires")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: EmailStr
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
