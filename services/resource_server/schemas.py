"""Wire schemas: what the API accepts and returns, for validation and the OpenAPI document."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.resource_server.catalog import IMAGES, REGIONS, SIZES

# A hostname label (RFC 1123): letters, digits, inner hyphens and dots, at most 63 characters.
DROPLET_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$"


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

    name: Annotated[str, StringConstraints(pattern=DROPLET_NAME_PATTERN, max_length=63)]
    region: str = Field(json_schema_extra={"enum": list(REGIONS)})
    size: str = Field(json_schema_extra={"enum": list(SIZES)})
    image: str = Field(json_schema_extra={"enum": list(IMAGES)})

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return _in_catalog(value, REGIONS, "region")

    @field_validator("size")
    @classmethod
    def _known_size(cls, value: str) -> str:
        return _in_catalog(value, SIZES, "size")

    @field_validator("image")
    @classmethod
    def _known_image(cls, value: str) -> str:
        return _in_catalog(value, IMAGES, "image")


def _in_catalog(value: str, catalog: Any, what: str) -> str:
    if value not in catalog:
        raise ValueError(f"unknown {what}")
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


class ErrorResponse(BaseModel):
    """RFC 6750 §3.1 / RFC 6749 §5.2 style error body."""

    error: str = Field(examples=["invalid_token"])
    error_description: str | None = None
