"""FastAPI dependencies: they look things up and authenticate, and decide nothing else."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from services.authorization_server.context import ServerContext
from services.authorization_server.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")


# `async`: a plain lookup, so FastAPI runs it on the event loop, not in a worker thread.
async def get_context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


ContextDep = Annotated[ServerContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    """A session on the request paths' async engine (`ServerContext.db`)."""
    async with AsyncSession(context.db, expire_on_commit=False) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def run_sync(
    session: AsyncSession,
    fn: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`fn(sync_session, *args, **kwargs)`, on the event loop: how pages use the database.

    The storage and domain code (`repository`, `users`, `Grant.respond`, ...) is written
    against a sync `Session`. SQLAlchemy runs `fn` in a greenlet on the loop's own thread and
    each of its queries awaits the async driver, so there is no worker thread and no second
    pool. `fn` must not do slow CPU work, which would stall the loop: argon2 runs between
    two calls, in a worker thread. What a template reads must be loaded inside `fn` (a lazy
    load after it returns raises `MissingGreenlet`).
    """
    # The sync session is sqlmodel's `Session` (`AsyncSession.sync_session_class`);
    # SQLAlchemy's signature names its base class.
    return await session.run_sync(fn, *args, **kwargs)  # type: ignore[arg-type]
