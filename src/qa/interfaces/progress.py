"""What `qa index` shows on stderr while it builds: the files read, the passages and sentences
they make, and the texts embedded. On a terminal, bars (rich); in a log or CI, a line every
few seconds and one at the end of each step, so that a log keeps a few lines, not one per
file or batch."""

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import typer

from qa.index.build import BuildProgress

if TYPE_CHECKING:
    import rich.progress


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def chunked_line(documents: int, passages: int, sentences: int) -> str:
    return (
        f"{_plural(documents, 'document')}: {_plural(passages, 'passage')}, "
        f"{_plural(sentences, 'sentence')}"
    )


class Lines:
    """Plain lines: each step's count every `every` seconds, and when it is complete."""

    def __init__(self, echo: Callable[[str], None], every: float = 2.0) -> None:
        self.echo = echo
        self.every = every
        self._last = time.monotonic()

    def _due(self, done: int, total: int) -> bool:
        if done == total or time.monotonic() - self._last >= self.every:
            self._last = time.monotonic()
            return True
        return False

    def read(self, done: int, total: int, doc_id: str) -> None:
        if self._due(done, total):
            self.echo(f"read {done}/{total} files ({doc_id})")

    def chunked(self, documents: int, passages: int, sentences: int) -> None:
        self.echo(chunked_line(documents, passages, sentences))
        self._last = time.monotonic()

    def embedded(self, done: int, total: int) -> None:
        if total == 0:
            self.echo("nothing new to embed: every text is in the previous build")
        elif self._due(done, total):
            self.echo(f"embedded {done:,}/{total:,} texts")


class Bars:
    """rich's bars: files read, then texts embedded, with the sentences in between."""

    def __init__(self, bars: "rich.progress.Progress") -> None:
        self.bars = bars
        self._reading = bars.add_task("reading", total=None, note="")
        self._embedding: int | None = None

    def read(self, done: int, total: int, doc_id: str) -> None:
        self.bars.update(self._reading, completed=done, total=total, note=doc_id)

    def chunked(self, documents: int, passages: int, sentences: int) -> None:
        self.bars.console.print(chunked_line(documents, passages, sentences), highlight=False)

    def embedded(self, done: int, total: int) -> None:
        if total == 0:
            self.bars.console.print(
                "nothing new to embed: every text is in the previous build", highlight=False
            )
            return
        if self._embedding is None:
            self._embedding = self.bars.add_task("embedding", total=total, note="texts")
        self.bars.update(self._embedding, completed=done, total=total)


@contextlib.contextmanager
def build_progress(every: float = 2.0) -> Iterator[BuildProgress]:
    """A build's progress on stderr: bars on a terminal, else plain lines."""
    if not sys.stderr.isatty():
        yield Lines(lambda line: typer.echo(line, err=True), every)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bars = Progress(
        TextColumn("{task.description:>9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        console=Console(stderr=True),
        transient=True,
    )
    with bars:
        yield Bars(bars)
