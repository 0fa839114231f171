"""`uvicorn services.<name>.main:app` without an import-time app.

Each service's main module sets `__getattr__ = lazy_app(create_app, globals())`: the app
is built (settings read, engine made) on first access of `app`, so importing the module,
as tests do, has no side effects.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI


def lazy_app(factory: Callable[[], FastAPI], namespace: dict[str, Any]) -> Callable[[str], FastAPI]:
    def module_getattr(name: str) -> FastAPI:
        if name != "app":
            raise AttributeError(name)
        application = factory()
        namespace["app"] = application  # later lookups find it without this hook
        return application

    return module_getattr
