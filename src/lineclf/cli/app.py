"""What every `lineclf` command shares: the Typer app, common options,
and the wrapper that turns errors into one line on stderr and an exit code.

Only the CLI prints (data to stdout, messages to stderr) and sets exit
codes. Every error is one line on stderr, ``lineclf: error: <file>[:line|:
byte N]: what is wrong``, with exit status 1 (bad data or files) or 2 (bad
usage); a traceback only with --debug.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import TyperException

from ..errors import LineclfError, OutputError

app = typer.Typer(
    name="lineclf",
    help="Label every line of a web page's text dump as body, headline, caption, teaser or chrome.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logger = logging.getLogger("lineclf")


class OnError(str, Enum):
    stop = "stop"
    skip = "skip"


# Paths are checked by the library, not by typer's exists=/dir_okay=, so that
# a missing or misplaced file gets the same one-line message as every other error.
ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model",
        "-m",
        help="Model file (.joblib, or .skops with skops installed); the shipped default model when omitted. "
        "A .joblib file runs code when loaded: give only files you trust.",
    ),
]
ManifestOption = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--groups",
        "-g",
        help="Manifest 'name[<TAB>lang]<TAB>site[<TAB>url]' (e.g. gn1-manifest.tsv): folds keep each site together. Repeatable.",
    ),
]
OnErrorOption = Annotated[
    OnError,
    typer.Option(
        "--on-error",
        help="stop: stop at the first file that cannot be read. skip: leave it out, go on, "
        "list the skipped files at the end and exit with status 1.",
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress messages to stderr.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]

#: Exit statuses beyond LineclfError's 1 and 2 (the shell's 128 + signal number).
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that temporary files are cleaned up."""


class _StdoutClosed(Exception):
    """The reader of standard output went away (``lineclf predict ... | head``)."""


def _on_sigterm(signum, frame):
    raise _Terminated




def say_line(line: str) -> None:
    """Write one message line to stderr."""
    typer.echo(line, err=True)


def show_warning(message, category, filename, lineno, file=None, line=None, say=say_line):
    # one line, as errors are (a library's warning may span several); the
    # source location means nothing to a user
    say(f"lineclf: warning: {' '.join(str(message).split())}")


def handle_errors(func):
    """Run a command body, turning errors into one line on stderr and a
    non-zero exit (a traceback only with --debug), and warnings into one line."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        debug = kwargs.get("debug", False)
        logging.basicConfig(
            level=logging.INFO if kwargs.get("verbose") else logging.WARNING,
            format="lineclf: %(message)s",
            stream=sys.stderr,
        )
        with warnings.catch_warnings(), _sigterm_as_interrupt():
            warnings.showwarning = show_warning
            try:
                return func(*args, **kwargs)
            except (typer.Exit, typer.Abort, TyperException):  # typer's own exits and usage errors
                raise
            except LineclfError as exc:
                if debug:
                    raise
                typer.echo(f"lineclf: error: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from None
            except _StdoutClosed:
                raise typer.Exit(EXIT_BROKEN_PIPE) from None
            except KeyboardInterrupt as exc:
                terminated = isinstance(exc, _Terminated)
                typer.echo(f"lineclf: {'terminated' if terminated else 'interrupted'}", err=True)
                raise typer.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED) from None
            except Exception as exc:
                # a bug, or the machine (out of memory): still one line, unless --debug
                if debug:
                    raise
                what = "out of memory" if isinstance(exc, MemoryError) else f"unexpected {type(exc).__name__}: {exc}"
                typer.echo(f"lineclf: error: {what} (run again with --debug for the traceback)", err=True)
                raise typer.Exit(1) from None

    return wrapper


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While a command runs, SIGTERM (kill's default) unwinds like Ctrl-C, so
    that a half-written temporary file is removed; SIGKILL cannot be caught,
    and only ever leaves a hidden .<name>.*.tmp file, never a partial output."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def write_stdout(text: str) -> None:
    """Write one page's output and flush it, so that what reached stdout is
    always whole pages and a write error is seen here, naming stdout."""
    out = getattr(sys.stdout, "buffer", sys.stdout)
    try:
        out.write(text.encode("utf-8") if out is not sys.stdout else text)
        out.flush()
    except BrokenPipeError:
        _detach_stdout()
        raise _StdoutClosed from None
    except OSError as exc:
        _detach_stdout()
        raise OutputError(f"stdout: cannot write: {exc.strerror or exc}") from None


def _detach_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that the
    # failed write is not reported a second time as an ignored exception
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def report_skipped(skipped: list[str], total: int, what: str = "file(s)") -> None:
    """After a batch with --on-error skip: name the skipped files (or pages) and fail."""
    if skipped:
        typer.echo(f"lineclf: error: skipped {len(skipped)} of {total} {what} that could not be read: {', '.join(skipped)}", err=True)
        raise typer.Exit(1)


def skip_messages(skipped: list[tuple[str, LineclfError]], say=say_line) -> list[str]:
    """Print one 'skipped' line per skipped file, saying why; return their names."""
    for _, exc in skipped:
        say(f"lineclf: skipped: {exc}")
    return [name for name, _ in skipped]
