"""A page's lines in reading order: top to bottom, and on a two-column stretch of the page the
left column before the right one.

The gutter is the vertical strip that the large majority of the page's runs leave white,
with a column of text on either side. A few lines may cross it: what spans both columns
about evenly (a title, a centred heading, a page number) parts the page into bands read one
after another; a line reaching over from the left column (a line of code set wider than
its column, which LaTeX prints as it is, over the gutter and the other column's text)
belongs to the column where it starts and is read there, whole."""

import math

from qa.corpus.pdf_layout import Line, Run, line_groups, lines_of

_CROSSING = 0.1  # the share of a page's runs that may cross its gutter
_MIN_LINES = 5  # lines of text each side of a gutter, at least
_SEARCH = (0.3, 0.7)  # where across the page's text a gutter is looked for
_COLUMN = 0.35  # the left column's width, at least, in the text's width
_FULL = 0.6  # a column's longer lines fill this much of its width, at least
_CODE_GAP = 4.0  # the widest gap, in font sizes, within a line of code over the gutter


def page_lines(runs: list[Run], page: int) -> list[Line]:
    """The page's lines in reading order."""
    runs = [r for r in runs if r.text.strip()]
    if not runs:
        return []
    gutter = _gutter(runs)
    if gutter is None:
        return lines_of(runs, page)
    lines: list[Line] = []
    band: list[Run] = []
    for run in sorted(runs, key=lambda r: -r.top):
        if _spanning(run, gutter):  # across both columns: the band above ends here
            lines += _columns(band, gutter, page) + lines_of([run], page)
            band = []
        else:
            band.append(run)
    return lines + _columns(band, gutter, page)


def _spanning(run: Run, gutter: float) -> bool:
    """A run across the gutter reaching about as far into one column as into the other (a
    title, a centred heading, a page number, a line of a full-width abstract). One reaching
    much further into the left column, or set in a fixed-pitch font, is a line of that
    column running over."""
    into_left, into_right = gutter - run.left, run.right - gutter
    if into_left <= 0 or into_right <= 0 or run.mono:
        return False
    return min(into_left, into_right) >= 0.5 * max(into_left, into_right)


def _columns(runs: list[Run], gutter: float, page: int) -> list[Line]:
    """A band's lines: the left column's (those starting left of the gutter, with the rest of
    a line of code running over it), then the right column's."""
    left = [r for r in runs if r.left < gutter]
    right = []
    for run in sorted((r for r in runs if r.left >= gutter), key=lambda r: r.left):
        if any(_goes_on(before, run) for before in left if before.right > gutter):
            left.append(run)
        else:
            right.append(run)
    return lines_of(left, page) + lines_of(right, page)


def _goes_on(before: Run, run: Run) -> bool:
    """Whether a run of code goes on a line of code just before it (after a few spaces)."""
    if not (before.mono and run.mono):
        return False
    same_line = abs(before.bottom - run.bottom) < 0.2 * run.size
    return same_line and 0 <= run.left - before.right <= _CODE_GAP * run.size


def _gutter(runs: list[Run]) -> float | None:
    """The x of the white strip parting two columns of text, if the page has them: the
    widest strip, between 30% and 70% across the text, crossed by the fewest runs (give or
    take one: a page number), if few; with lines of a column of text on either side."""
    x0, x1 = math.floor(min(r.left for r in runs)), math.ceil(max(r.right for r in runs))
    crossing = _crossings(runs, x0, x1)
    low, high = (round((x1 - x0) * share) for share in _SEARCH)
    fewest = min(crossing[low : high + 1], default=len(runs))
    strip, start = (0, 0), None
    for x in range(low, high + 2):
        white = x <= high and crossing[x] <= fewest + 1
        if white and start is None:
            start = x
        elif not white and start is not None:
            strip = max(strip, (start, x - 1), key=lambda s: s[1] - s[0])
            start = None
    middle = x0 + (strip[0] + strip[1]) / 2
    if sum(1 for r in runs if r.left < middle < r.right) > _CROSSING * len(runs):
        return None
    left = [r for r in runs if r.right <= middle]
    right = [r for r in runs if r.left >= middle]
    if not left or not right:
        return None
    edge, start_right = max(r.right for r in left), min(r.left for r in right)
    width = edge - x0  # the left column's
    if width < _COLUMN * (x1 - x0):
        return None
    if not (_text_column(left, width) and _text_column(right, width)):
        return None
    return (edge + start_right) / 2


def _crossings(runs: list[Run], x0: int, x1: int) -> list[int]:
    """For each whole x from x0 to x1, how many runs cross it."""
    change = [0] * (x1 - x0 + 2)
    for run in runs:
        first, last = math.floor(run.left) + 1 - x0, math.ceil(run.right) - 1 - x0
        if first <= last:
            change[first] += 1
            change[last + 1] -= 1
    counts, total = [], 0
    for step in change:
        total += step
        counts.append(total)
    return counts


def _text_column(runs: list[Run], width: float) -> bool:
    """Lines of a column of text: enough of them, a quarter at least filling most of the
    column's width (a table's column of short cells does not)."""
    spans = sorted(max(r.right for r in g) - g[0].left for g in line_groups(runs))
    if len(spans) < _MIN_LINES:
        return False
    return spans[len(spans) * 3 // 4] >= _FULL * width
