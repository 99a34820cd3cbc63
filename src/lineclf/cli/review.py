"""`lineclf review`: correct predicted labels in the browser, save labelled pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import DebugOption, ModelOption, VerboseOption, app, handle_errors
from .predict import InputFormat


@app.command()
@handle_errors
def review(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Dumps (.txt), JSON Lines (.jsonl) or WARC/WET files, each also compressed; directories of them; or - for standard input.",
            allow_dash=True,
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out-dir", "-o", help="Where each reviewed page is saved as <input stem>.tsv (label<TAB>text), ready for lineclf train."),
    ],
    model: ModelOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).", min=0, max=65535)] = 0,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the page in the browser.")] = True,
    input_format: Annotated[InputFormat, typer.Option("--input-format", help="As for lineclf predict.")] = InputFormat.auto,
    text_field: Annotated[str, typer.Option(help="JSON Lines field holding the page text.")] = "text",
    verbose: VerboseOption = False,
    debug: DebugOption = False,
) -> None:
    """Label the inputs with the model and serve a page on 127.0.0.1 to correct them.

    Pages come least certain first; each page saved there is written to
    --out-dir as a labelled file. Pages already in --out-dir load as saved,
    so a review can be stopped (Ctrl-C) and resumed. The URL carries a
    random token; requests without it are refused.
    """
    run_review(inputs, out_dir, model, port, browser, input_format, text_field)


def run_review(inputs, out_dir, model, port, browser, input_format, text_field) -> None:
    """The work of `lineclf review`: see :func:`review`."""
    from ..io import RecordSettings
    from ..labelling import detect_sources
    from ..model import load_predictor
    from ..review import ReviewServer, review_pages

    sources = detect_sources(inputs, input_format.value, text_field)
    queue = review_pages(sources, out_dir, load_predictor(model), RecordSettings(text_field))
    server = ReviewServer(queue, port)
    typer.echo(f"lineclf: reviewing {len(queue.pages)} page(s), {queue.done} saved before, in {out_dir}", err=True)
    typer.echo(f"lineclf: open {server.url}  (Ctrl-C to stop)", err=True)
    if browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C is how a review ends: every saved page is already on disk
        pass
    finally:
        server.server_close()
        typer.echo(f"lineclf: {queue.done} of {len(queue.pages)} page(s) saved in {out_dir}", err=True)
