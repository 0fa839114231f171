"""A command's `main(argv)` run in the test process as if it were its own: a whole environment
of its own, stdin, stdout and stderr, and its exit status (`sys.exit`) as a return code.

A Python process per command costs about 3 s of CPU (importing FastAPI, pydantic and
SQLAlchemy again); most command tests are about what `main` does, not about the installed
entry point, which a few tests still start as real processes.
"""

import io
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from unittest import mock


@contextmanager
def _logging_restored() -> Iterator[None]:
    """A command may configure its loggers (`--debug`); the next one starts as a process would."""
    loggers = [logging.root, *logging.root.manager.loggerDict.values()]
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate)
        for logger in loggers
        if isinstance(logger, logging.Logger)
    ]
    try:
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.level = level
            logger.propagate = propagate


def run_main(
    main: Callable[[list[str]], object],
    args: list[str],
    *,
    env: dict[str, str],
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`main(args)` with `env` as the whole of `os.environ` and `stdin` as standard input (no
    terminal, as from a pipe or /dev/null); what it printed and its exit status."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch("sys.stdin", io.StringIO(stdin or "")),
        redirect_stdout(out),
        redirect_stderr(err),
        _logging_restored(),
    ):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
