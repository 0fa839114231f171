"""Wire schemas: what the API accepts and returns, for validation and the OpenAPI document."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.resource_server.catalog import IMAGES, REGIONS, SIZES

# A hostname label (RFC 1123): letters, digits, inner hyphens and dots, at most 63 characters.
DROPLET_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$"
DROPLET_NAME_RULE = (
    "1 to 63 letters, digits, hyphens or dots, starting and ending with a letter or digit"
)
_DROPLET_NAME = re.compile(DROPLET_NAME_PATTERN)


class AccountPublic(BaseModel):
    uuid: str
    email: str | None
    droplet_limit: int
    status: str
    kind: Literal["user", "service"]
    client_id: str | None = Field(
        default=None, description="For a service account: the app acting for itself."
    )


class AccountResponse(BaseModel):
    account: AccountPublic


class DropletCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The pattern is checked by `_valid_name`, whose error says the rule in words.
    name: str = Field(
        description=f"The hostname: {DROPLET_NAME_RULE}.",
        examples=["web-1"],
        json_schema_extra={"pattern": DROPLET_NAME_PATTERN, "minLength": 1, "maxLength": 63},
    )
    region: str = Field(json_schema_extra={"enum": list(REGIONS)})
    size: str = Field(json_schema_extra={"enum": list(SIZES)})
    image: str = Field(json_schema_extra={"enum": list(IMAGES)})

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _DROPLET_NAME.fullmatch(value):
            raise ValueError(f"must be {DROPLET_NAME_RULE}")
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return _in_catalog(value, REGIONS)

    @field_validator("size")
    @classmethod
    def _known_size(cls, value: str) -> str:
        return _in_catalog(value, SIZES)

    @field_validator("image")
    @classmethod
    def _known_image(cls, value: str) -> str:
        return _in_catalog(value, IMAGES)


def _in_catalog(value: str, catalog: Mapping[str, Any]) -> str:
    if value not in catalog:
        raise ValueError(f"must be one of: {', '.join(catalog)}")
    return value


class DropletPublic(BaseModel):
    id: int
    name: str
    region: str
    size: str
    image: str
    status: str
    created_at: datetime


class DropletResponse(BaseModel):
    droplet: DropletPublic


class PageLinks(BaseModel):
    first: str | None = None
    prev: str | None = None
    next: str | None = None
    last: str | None = None


class Links(BaseModel):
    pages: PageLinks


class Meta(BaseModel):
    total: int


class DropletList(BaseModel):
    droplets: list[DropletPublic]
    links: Links
    meta: Meta
