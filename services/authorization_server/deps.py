"""FastAPI dependencies: they look things up and authenticate, and decide nothing else."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.settings import Settings


def get_context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


def get_settings(request: Request) -> Settings:
    return get_context(request).settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(get_context(request).engine, expire_on_commit=False) as session:
        yield session


ContextDep = Annotated[ServerContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
