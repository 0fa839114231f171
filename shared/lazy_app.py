"""`uvicorn services.<name>.main:app` without an import-time app.

Each service's main module sets `__getattr__ = lazy_app(create_app, globals())`: the app
is built (settings read, engine made) on first access of `app`, so importing the module,
as tests do, has no side effects. Settings the service cannot start with stop the process
with one line on stderr naming every problem (exit status 2), not a traceback.
"""

import sys
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.settings import SettingsError

SETTINGS_EXIT_STATUS = 2


def lazy_app(factory: Callable[[], FastAPI], namespace: dict[str, Any]) -> Callable[[str], FastAPI]:
    def module_getattr(name: str) -> FastAPI:
        if name != "app":
            raise AttributeError(name)
        try:
            application = factory()
        except SettingsError as exc:
            print(f"{namespace['__name__']}: refusing to start: {exc}", file=sys.stderr)
            raise SystemExit(SETTINGS_EXIT_STATUS) from None
        namespace["app"] = application  # later lookups find it without this hook
        return application

    return module_getattr
