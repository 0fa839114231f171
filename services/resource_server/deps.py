"""FastAPI dependencies: they look things up and authenticate, and decide nothing else."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from services.resource_server.context import ResourceContext
from services.resource_server.settings import Settings


async def get_context(request: Request) -> ResourceContext:
    context: ResourceContext = request.app.state.context
    return context


async def get_settings(request: Request) -> Settings:
    context: ResourceContext = request.app.state.context
    return context.settings


def get_session(request: Request) -> Iterator[Session]:
    context: ResourceContext = request.app.state.context
    with Session(context.engine, expire_on_commit=False) as session:
        yield session


ContextDep = Annotated[ResourceContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
