"""A PDF page's text as a careful reader sees it: pdfium's characters with their boxes grouped
into runs (one font size, one baseline, no wide gap), runs into lines, and a line's runs into
cells where a gap wider than a word space parts them (a table row's cells). How runs are put
in columns before that: `pdf_columns`."""

import ctypes
import math
import re
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pypdfium2

# A gap wider than this many font sizes parts two cells of a row (or two columns).
CELL_GAP = 0.9
_LINE_BREAKS = frozenset("\r\n")


@dataclass(slots=True)
class Run:
    """Characters pdfium gives in a row at one baseline, without a wide gap between them."""

    text: str
    left: float
    bottom: float
    right: float
    top: float
    sizes: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)  # pdfium's indices of its characters
    mono: bool = False  # in a fixed-pitch (typewriter) font
    type_size: float = 0.0  # its first character's font size as drawn (scaled)
    turned: bool = False  # set at an angle (a margin's stamp, an axis's label)

    @property
    def size(self) -> float:
        return statistics.median(self.sizes) if self.sizes else 0.0


@dataclass(slots=True)
class Line:
    """A line of a page: its text, its cells (more than one: a table row's), where it sits
    (PDF y grows upwards) and its median font size."""

    text: str
    page: int  # 1-based
    top: float
    bottom: float
    size: float
    left: float = 0.0
    right: float = 0.0
    cells: tuple[str, ...] = ()
    starts: tuple[float, ...] = ()  # each cell's left edge
    ends: tuple[float, ...] = ()  # and right edge
    chars: int = 0
    separators: tuple[float, ...] = ()  # a table row's: the x of the white between columns
    mono: bool = False  # all in a fixed-pitch font: a line of code


Box = tuple[float, float, float, float]  # left, bottom, right, top


@dataclass(slots=True)
class Figures:
    """Where a page draws pictures: images and embedded drawings (text on them is a
    figure's), and vector drawings: clusters of paths (a chart's bars, curves and axes),
    each with its shapes (paths wider and taller than a rule)."""

    images: list[Box] = field(default_factory=list)
    drawings: list[tuple[Box, list[Box]]] = field(default_factory=list)


def page_figures(page: "pypdfium2.PdfPage") -> Figures:
    """The page's images, embedded drawings (form XObjects) and clusters of vector paths,
    each less than half the page."""
    import pypdfium2.raw as raw

    width, height = page.get_size()
    figures = Figures()
    paths: list[Box] = []
    kinds = [raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_FORM, raw.FPDF_PAGEOBJ_PATH]
    for obj in page.get_objects(filter=kinds, max_depth=1):
        box = obj.get_bounds() if hasattr(obj, "get_bounds") else obj.get_pos()  # pypdfium2 4
        w, h = box[2] - box[0], box[3] - box[1]
        if w * h >= 0.5 * width * height:
            continue
        if obj.type == raw.FPDF_PAGEOBJ_PATH:
            paths.append(box)
        elif w * h > 2500:  # larger than an icon
            figures.images.append(box)
    paths.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    for box, members in _clusters(paths[:_MAX_PATHS]):
        shapes = [b for b in members if b[2] - b[0] > 3 and b[3] - b[1] > 3]
        if len(shapes) >= 2:
            figures.drawings.append((box, shapes))
    return figures


_MAX_PATHS = 500  # the largest paths of a page are clustered; a map's thousands are not


def _clusters(boxes: list[Box], reach: float = 6.0) -> list[tuple[Box, list[Box]]]:
    """Boxes gathered while they come within `reach` of each other: each cluster's box and
    its boxes."""
    clusters: list[tuple[Box, list[Box]]] = []
    for box in boxes:
        members = [box]
        for cluster in [c for c in clusters if _near(box, c[0], reach)]:
            clusters.remove(cluster)
            members += cluster[1]
        bound = (
            min(b[0] for b in members),
            min(b[1] for b in members),
            max(b[2] for b in members),
            max(b[3] for b in members),
        )
        clusters.append((bound, members))
    return clusters


def _near(a: Box, b: Box, reach: float) -> bool:
    across = a[0] - reach <= b[2] and b[0] - reach <= a[2]
    return across and a[1] - reach <= b[3] and b[1] - reach <= a[3]


def page_runs(page: "pypdfium2.PdfPage") -> list[Run]:
    """The page's characters, in pdfium's order, as runs."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        handle = textpage.raw
        rect = raw.FS_RECTF()  # the loose box: the font's ascent to its descent
        box = ctypes.byref(rect)
        get_box, get_size = raw.FPDFText_GetLooseCharBox, raw.FPDFText_GetFontSize
        get_unicode = raw.FPDFText_GetUnicode
        runs: list[Run] = []
        run: Run | None = None
        high = 0  # pdfium gives a character beyond the BMP as two UTF-16 halves
        for i in range(count):  # by character: the text's indices drift from them at times
            code = get_unicode(handle, i)
            if 0xD800 <= code < 0xDC00:
                high = code
                continue
            if 0xDC00 <= code < 0xE000:
                code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00) if high else 0
            high = 0
            if not code or code >= 0x110000:  # a glyph without a character
                continue
            char = chr(code)
            if char in _LINE_BREAKS:
                run = None
                continue
            if char.isspace():
                if run is not None:
                    run.text += " "
                continue
            get_box(handle, i, box)
            x0, y0, x1, y1 = rect.left, rect.bottom, rect.right, rect.top
            # the type's height as drawn: a font size alone misses the text's scaling
            size = (y1 - y0) or get_size(handle, i)
            if run is not None and _continues(run, x0, y0, y1, size):
                run.text += char
                run.right = max(run.right, x1)
                run.bottom, run.top = min(run.bottom, y0), max(run.top, y1)
                run.sizes.append(size)
                run.chars.append(i)
            else:
                run = Run(char, x0, y0, x1, y1, [size], [i])
                runs.append(run)
        matrix = raw.FS_MATRIX()
        for run in runs:
            run.mono = _fixed_pitch(textpage, run.chars)
            mark = _raised_mark(handle, run)
            if mark:  # a footnote's own mark, set small and raised before its first word
                run.text = f"{run.text[:mark]} {run.text[mark:]}"
            first = run.chars[mark]  # the type of its text, not of its mark
            raw.FPDFText_GetMatrix(handle, first, ctypes.byref(matrix))
            scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
            # a size scaled outside the text's matrix shows in its box only
            run.type_size = get_size(handle, first) * scale
            if run.type_size < 0.6 * run.size:
                run.type_size = run.size
            angle = raw.FPDFText_GetCharAngle(handle, run.chars[0])
            run.turned = angle > 0 and abs(math.sin(angle)) > 0.1
        return _upright(runs)
    finally:
        textpage.close()


_MARK_CHARS = frozenset("0123456789*†‡§¶")
_MARK_LENGTH = 3  # a footnote's mark: "7", "23", "*", "†‡"


def _raised_mark(handle: object, run: Run) -> int:
    """How many characters a run starts with that are a footnote's mark set smaller and
    raised, right before a word ("3The user agent ..." where a LaTeX footnote starts): the
    mark is kept, since it ties the note to its place in the text and tells one note from
    the next, and is parted from the word by a space, so the note's first sentence reads
    whole. 0 if the run does not start so."""
    import pypdfium2.raw as raw

    text = run.text
    count = 0
    while count < min(_MARK_LENGTH, len(run.chars) - 1) and text[count] in _MARK_CHARS:
        count += 1
    if not count or text[count].isspace() or text[count] in _MARK_CHARS:
        return 0
    mark, word = run.chars[0], run.chars[count]
    get_size = raw.FPDFText_GetFontSize
    mark_size, word_size = get_size(handle, mark), get_size(handle, word)
    x, mark_y, word_y = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(handle, mark, ctypes.byref(x), ctypes.byref(mark_y))
    raw.FPDFText_GetCharOrigin(handle, word, ctypes.byref(x), ctypes.byref(word_y))
    smaller = mark_size < 0.85 * word_size
    raised = mark_y.value - word_y.value > 0.15 * run.size
    return count if smaller and raised else 0


def _mark_before(mark: Run, run: Run) -> bool:
    """Whether a line's first run is a footnote's mark alone, set smaller and raised before
    the run of its first word (pdfium sets the mark apart when it is raised that much)."""
    text = mark.text.strip()
    if not text or len(text) > _MARK_LENGTH or not all(c in _MARK_CHARS for c in text):
        return False
    smaller = mark.type_size < 0.85 * run.type_size
    return smaller and mark.bottom - run.bottom > 0.15 * run.size


def _upright(runs: list[Run]) -> list[Run]:
    """The runs set upright, unless most of the page is turned (a landscape page): text
    set at an angle beside upright text is a stamp in the margin or a chart's axis label,
    not part of what is read."""
    turned = sum(len(r.chars) for r in runs if r.turned)
    if turned > 0.5 * sum(len(r.chars) for r in runs):
        return runs
    return [r for r in runs if not r.turned]


# Fixed-pitch fonts by name: ...Mono, Courier and URW's clone of it (NimbusMonL, set by
# LaTeX's times and helvet packages), TeX's typewriter faces (cmtt10, t1xtt, ...).
_MONO_NAME = re.compile(r"mono|nimbusmon|courier|typewriter|consol|code|tt\d*$")


def _fixed_pitch(textpage: "pypdfium2.PdfTextPage", chars: list[int]) -> bool:
    """Whether a few characters spread over a run are all in a fixed-pitch font (by its
    flags or its name): a run of code. Sampled, since asking for every character's font
    would slow reading a long document."""
    import pypdfium2.raw as raw

    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    step = max(1, len(chars) // 4)
    for i in chars[::step]:
        raw.FPDFText_GetFontInfo(textpage.raw, i, name, len(name), ctypes.byref(flags))
        font = name.value.decode("latin-1").lower().rpartition("+")[2]
        if not (flags.value & 1 or _MONO_NAME.search(font)):
            return False
    return bool(chars)


def _continues(run: Run, left: float, bottom: float, top: float, size: float) -> bool:
    """Whether a character goes on the run: on its line, neither behind it nor far after."""
    middle = (bottom + top) / 2
    if not run.bottom - 0.2 * size <= middle <= run.top + 0.2 * size:
        return False
    return -0.5 * size <= left - run.right <= CELL_GAP * size


def lines_of(runs: list[Run], page: int) -> list[Line]:
    """Runs grouped into lines by their vertical overlap, each line's runs left to right."""
    return [_line(group, page) for group in line_groups(runs)]


def line_groups(runs: list[Run]) -> list[list[Run]]:
    """The runs of each line, top to bottom, left to right: runs overlapping vertically."""
    groups: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: -r.top):
        if groups and _overlaps(groups[-1], run):
            groups[-1].append(run)
        else:
            groups.append([run])
    return [sorted(g, key=lambda r: r.left) for g in groups]


def _overlaps(group: list[Run], run: Run) -> bool:
    top = max(r.top for r in group)
    bottom = min(r.bottom for r in group)
    overlap = min(top, run.top) - max(bottom, run.bottom)
    return overlap > 0.5 * min(top - bottom, run.top - run.bottom)


def _line(runs: list[Run], page: int) -> Line:
    sizes = [s for r in runs for s in r.sizes]
    size = statistics.median(sizes)  # the type's height: the measure of its gaps
    # the line's type: its largest, but a lone mark's (a bullet's, a superscript's)
    words = [r.type_size for r in runs if len(r.chars) > 1]
    type_size = max(words) if words else statistics.median(r.type_size for r in runs)
    cells: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    previous: Run | None = None
    for run in runs:
        text = run.text.strip()
        gap = run.left - previous.right if previous else 0.0
        if previous is None or gap > CELL_GAP * size:
            cells.append(text)
            starts.append(run.left)
            ends.append(run.right)
        elif gap > 0.1 * size or (previous is runs[0] and _mark_before(previous, run)):
            cells[-1] += " " + text
        else:
            cells[-1] += text
        ends[-1] = max(ends[-1], run.right)
        previous = run
    return Line(
        " ".join(cells),
        page,
        top=max(r.top for r in runs),
        bottom=min(r.bottom for r in runs),
        size=type_size,
        left=runs[0].left,
        right=max(r.right for r in runs),
        cells=tuple(cells),
        starts=tuple(starts),
        ends=tuple(ends),
        chars=len(sizes),
        mono=all(r.mono for r in runs),
    )
