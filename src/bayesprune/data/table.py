"""Reading delimited text files robustly, with errors that name the file, row and column.

The paper's files have quirks (semicolons in ``iris.csv``, carriage-return-only line endings in
``Unbalanced_325.csv``); user CSVs have many more. Everything is decoded and normalised here before pandas
sees it, so a bad file becomes one :class:`~bayesprune.errors.InputError` line instead of a traceback.
"""

from __future__ import annotations

import csv
import gzip
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bayesprune.errors import InputError


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path or the data directory") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    if raw.startswith(b"\x1f\x8b"):  # gzip-compressed (data.csv.gz): read as the text it holds
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: a gzip file that cannot be decompressed ({exc}); decompress it or fetch "
                             "it again") from None
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # a ZIP (.xlsx, .ods) or an OLE2 (.xls) file
        raise InputError(f"{path}: a spreadsheet workbook or an archive, not a text table; save the sheet as CSV "
                         "(in Excel or LibreOffice: File > Save As > CSV) and give that file")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + raw[: exc.start].count(b"\r") - raw[: exc.start].count(
            b"\r\n"
        )
        raise InputError(
            f"{path}: row {line + 1}: byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8"
        ) from None
    # Normalise CRLF and CR-only line endings (the reef core file uses CR only).
    return text.replace("\r\n", "\n").replace("\r", "\n")


WHITESPACE = " "  # the separator of a file whose columns are separated by runs of spaces (and tabs)


def _spaced(line: str) -> list[str]:
    """A line's cells with runs of spaces and tabs between them (double-quoted cells may hold spaces)."""
    return next(csv.reader([line.strip().replace("\t", " ")], delimiter=" ", skipinitialspace=True), [])


def _numbers_with_spaces(cell: str) -> bool:
    """Whether a cell is several numbers separated by spaces (``18.0   8   307.0``): columns, not one value."""
    parts = cell.split()
    return len(parts) > 1 and all(is_number(p) for p in parts)


def sniff_separator(first_line: str, second_line: str | None = None) -> str:
    """Pick the delimiter from the first two lines: the most frequent of ``, ; \\t`` (comma when none), or
    :data:`WHITESPACE` for columns separated by runs of spaces, as UCI's ``housing.data`` and statsmodels' files
    write them: where a line has no comma or semicolon, both lines split at spaces into the same number of cells
    (at least two), and either the line has no tab or a tab-separated cell of it is several numbers separated by
    spaces (UCI's ``auto-mpg.data``: numbers separated by spaces, then a tab and the car's name). A tab-separated
    file whose cells hold spaces in text (``New York``) stays tab-separated."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    if counts[","] == counts[";"] == 0 and second_line is not None:
        n = len(_spaced(first_line))
        if n >= 2 and len(_spaced(second_line)) == n and (
                counts["\t"] == 0 or any(_numbers_with_spaces(c) for c in (*first_line.split("\t"),
                                                                            *second_line.split("\t")))):
            return WHITESPACE
    return best if counts[best] > 0 else ","


def _split_lines(lines: list[str], sep: str):
    """The cells of each line (``csv.reader``'s rows; :data:`WHITESPACE` splits at runs of spaces and tabs)."""
    if sep == WHITESPACE:
        return (_spaced(line) if line.strip() else [] for line in lines)
    return csv.reader(lines, delimiter=sep)


def read_table(path: str | Path, *, sep: str | None = None, header: bool | None = None) -> pd.DataFrame:
    """Read a delimited text file into a DataFrame of strings-or-numbers, checking its shape.

    Parameters
    ----------
    path
        The file.
    sep
        Delimiter; sniffed from the first non-empty line when ``None``.
    header
        Whether the first line names the columns; when ``None``, :func:`looks_like_header` decides. Without a
        header, columns are named ``"0"``, ``"1"``, ...

    Raises
    ------
    InputError
        Empty file, header only, ragged rows, duplicated column names, undecodable bytes.
    """
    path = Path(path)
    text = _decode(path)
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not any(line.strip() for line in lines):
        raise InputError(f"{path}: the file is empty; expected rows of comma-separated values")
    first = lines[0]
    if sep is None:
        sep = sniff_separator(first, lines[1] if len(lines) > 1 else None)
    first_cells = next(_split_lines([first], sep))
    if header is None:
        second = next(_split_lines([lines[1]], sep)) if len(lines) > 1 else None
        header = looks_like_header([decimal_point(c, sep) for c in first_cells],
                                   None if second is None else [decimal_point(c, sep) for c in second])
    if header:
        names = [c.strip() for c in first_cells]
        if all(len(n) >= 2 and n[0] == n[-1] == "'" for n in names):  # 'age' 'income': single-quoted names
            names = [n[1:-1].strip() for n in names]  # (csv reads only double quotes), as statsmodels' files
        seen: set[str] = set()
        for j, name in enumerate(names):
            if name in seen and name != "":  # nameless columns: below, once their cells are read
                raise InputError(
                    f"{path}: row 1, column {j + 1}: column name '{name}' appears twice; rename one"
                )
            seen.add(name)
        body = lines[1:]
        offset = 2
    else:
        names = [str(j) for j in range(len(first_cells))]
        body = lines
        offset = 1
    if not body:
        raise InputError(f"{path}: the file has a header but no data rows")
    rows = []
    for i, row in enumerate(_split_lines(body, sep)):
        if not row or (len(row) == 1 and not row[0].strip()):
            raise InputError(f"{path}: row {i + offset} is empty; remove blank lines inside the data")
        if len(row) != len(names):
            raise InputError(
                f"{path}: row {i + offset} has {len(row)} columns, expected {len(names)} "
                f"(separator {'spaces' if sep == WHITESPACE else repr(sep)}); fix the row or the separator"
            )
        rows.append([decimal_point(c.strip(), sep) for c in row])
    keep, row_index = _named_columns(path, names if header else None, rows)
    frame = pd.DataFrame([[r[j] for j in keep] for r in rows], columns=[names[j] for j in keep], dtype=object)
    frame.attrs["path"] = str(path)
    frame.attrs["row_offset"] = offset
    frame.attrs["row_index"] = row_index  # what labelled the rows in a nameless first column left out
    if row_index:  # the labels themselves, for a prediction file to name its rows by (an array: pandas copies
        frame.attrs["row_labels"] = np.asarray([r[0] for r in rows], dtype=str)  # attrs on every column taken)
    return frame


def _named_columns(path, names: list[str] | None, rows: list[list[str]]) -> tuple[list[int], str | None]:
    """The columns a table keeps, and what row labels it left out (``"numbers"``, ``"names"`` or ``None``). Left
    out: a column without a value in any row that has no name or no header (a separator at the end of every line,
    as some spreadsheets write), and a nameless first column labelling the rows: the row numbers, as pandas'
    ``to_csv`` writes its index by default, or a different value in every row, as R's ``write.csv`` writes its
    row names (``"Mazda RX4"``, or the numbers of the rows a subset kept: :func:`_row_names`); any other nameless
    column is an error."""
    keep, row_index = [], None
    for j in range(len(rows[0])):
        cells = [r[j] for r in rows]
        nameless = names is not None and names[j] == ""
        if (nameless or names is None) and all(c == "" for c in cells):
            continue
        if nameless and j == 0 and _row_numbers(cells):
            row_index = "numbers"
            continue
        if nameless and j == 0 and _row_names(cells):
            row_index = "names"
            continue
        if nameless:
            raise InputError(f"{path}: row 1, column {j + 1}: empty column name; name every column (a nameless "
                             "first column is left out when it labels the rows, a different text or whole "
                             "number in every row, a nameless empty one always)")
        keep.append(j)
    return keep, row_index


def _row_names(cells: list[str]) -> bool:
    """Whether ``cells`` are row names as R writes them: a different value in every row, either text (``"Mazda
    RX4"``) or whole numbers (the rows a subset kept). Distinct numbers with decimals are more likely a measured
    column whose name was lost, so they stay the error that asks for a name."""
    if not all(cells) or len(set(cells)) != len(cells):
        return False
    numbers = [c for c in cells if is_number(c)]
    return len(numbers) < len(cells) or all(c.lstrip("+-").isdigit() for c in numbers)


def _row_numbers(cells: list[str]) -> bool:
    """Whether ``cells`` are the row numbers 0, 1, 2, ... or 1, 2, 3, ... in order (a table's written index)."""
    try:
        values = [float(c) for c in cells]
    except ValueError:
        return False
    return bool(values) and values[0] in (0.0, 1.0) and values == [values[0] + i for i in range(len(values))]


# decimal commas, written where the separator is not a comma (European spreadsheets: "1,5", "-0,25", "1.234,5")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_GROUPED_DECIMAL_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d+")
# thousands grouped by commas, as spreadsheets format numbers in a comma-separated file ("1,000", "12,345.67")
_GROUPED_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def decimal_point(cell: str, sep: str) -> str:
    """``cell`` with a decimal comma written as a point, in a file whose separator is not a comma; in a comma-
    separated file, a quoted number with its thousands grouped by commas (``"1,000"``, ``"12,345.67"``) without
    them; else as is (a quoted ``"1,5"`` there stays text: a decimal comma or a list, it cannot say)."""
    if sep == ",":
        text = cell.strip()
        return text.replace(",", "") if _GROUPED_THOUSANDS.fullmatch(text) else cell
    text = cell.strip()
    if _GROUPED_DECIMAL_COMMA.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    return text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else cell


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# a date as ISO 8601 writes it (2012-07-02, or 2012/07/02), an optional time after it (T or a space; seconds and
# a time zone optional, the zone ignored)
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                   r"(?:Z|[+-]\d{2}:?\d{2})?)?")

_DAY_OR_MONTH_FIRST = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[T ].*)?")  # 02/07/2012: which is the month?
# a month by its English name, which leaves no doubt: Jan 1 2000, January 1, 2000, 1 Jan 2000, 01-Jan-2000
_NAMED_MONTH = (re.compile(r"(?P<mon>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}),? (?P<year>\d{4})"),
                re.compile(r"(?P<day>\d{1,2})[ -](?P<mon>[A-Za-z]{3,9})\.?[ -](?P<year>\d{4})"))
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


def _named_month(name: str) -> int | None:
    """1-12 for an English month's name or its abbreviation (``Jan``, ``Sept``, ``March``), else ``None``."""
    name = name.lower()
    for k, full in enumerate(_MONTHS, 1):
        if name == full or name == full[:3] or (name == "sept" and k == 9):
            return k
    return None


def _date_parts(cell: str) -> tuple[int, ...] | None:
    """(year, month, day, hour, minute, second) of a date written year first or with its month named."""
    text = str(cell).strip()
    m = _DATE.fullmatch(text)
    if m is not None:
        return tuple(int(g) if g else 0 for g in m.groups())
    for pattern in _NAMED_MONTH:
        m = pattern.fullmatch(text)
        month = None if m is None else _named_month(m["mon"])
        if month is not None:
            return int(m["year"]), month, int(m["day"]), 0, 0, 0
    return None


def decimal_year(cell: str) -> float | None:
    """A date cell as a number, its decimal year (2012-07-02 is 2012.5, 2013-01-01 is 2013.0), so that a column
    of dates is one numeric input that orders and spaces the rows in time; ``None`` when ``cell`` is not a date
    written year first or with its month named in English (``Jan 1 2000``, ``1 January 2000``); day-first and
    month-first dates in numbers (``02/07/2012``) are ambiguous, and stay errors."""
    parts = _date_parts(cell)
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts
    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:  # 2012-02-30, 25:00
        return None
    start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    return year + (when - start).total_seconds() / (end - start).total_seconds()


def names_first_row(frame: pd.DataFrame, names: list[str]) -> bool:
    """Whether ``frame``, read without a header (:func:`looks_like_header` saw none), holds ``names`` (a target and
    features the user named) among the cells of its first row, none of them a column of it: the first row names the
    columns after all. A header whose numeric names stand above numbers and whose text names stand above text (the
    World Bank's wide tables: Country Name, ..., 1960, 1961, ...) looks like a data row to the sniffing; the names
    given settle it."""
    if frame.attrs.get("row_offset", 1) != 1 or not len(frame) or not names:
        return False
    first = {str(c).strip() for c in frame.iloc[0].tolist()}
    first |= {c[1:-1] for c in first if len(c) >= 2 and c[0] == c[-1] == "'"}
    return all(n not in frame.columns and n in first for n in names)


def looks_like_header(first: list[str], second: list[str] | None) -> bool:
    """Whether a file's first row names its columns: some cell of it is text where the row below holds a number,
    or every cell of it is text. So a headerless file whose data hold text (class labels, categories) in a column
    is read from its first row, while a header over numbers, or over text columns only, is a header."""
    text = [not is_number(c) for c in first]
    if second is None or len(second) != len(first):
        return any(text)
    return all(text) or any(t and is_number(c) for t, c in zip(text, second, strict=True))


MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}  # cells that mean "no value" (compared lower-case)


def is_missing(cell) -> bool:
    return str(cell).strip().lower() in MISSING


def missing_in(cells: list) -> list[bool]:
    """Per cell of one column whether it is missing (:data:`MISSING`), except ``None`` in a column that holds
    other text, where it is a value: R's factor levels (MASS's air bags ``None``, ``Driver only``; vcd's
    improvement ``None``, ``Some``, ``Marked``). In a column of numbers ``None`` stays missing, as does Python's
    ``None`` object (a pandas DataFrame's missing cell) anywhere."""
    flags = [is_missing(c) for c in cells]
    nones = [f and isinstance(c, str) and c.strip().lower() == "none" for c, f in zip(cells, flags, strict=True)]
    if not any(nones):  # the common case, without reading the column's other cells
        return flags
    text = any(not f and not is_number(str(c)) for c, f in zip(cells, flags, strict=True))
    return [f and not (text and n) for f, n in zip(flags, nones, strict=True)]


def file_rows(frame: pd.DataFrame) -> np.ndarray:
    """The file's row number (1-based, the header counted) of each row of ``frame``, also after rows were dropped
    (:func:`drop_missing`), so that every error names the row as an editor shows it."""
    rows = frame.attrs.get("rows")
    return np.asarray(rows) if rows is not None else np.arange(len(frame)) + frame.attrs.get("row_offset", 1)


def _missing_cells(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """(row, column of ``columns``) whether the cell is missing (:func:`missing_in`)."""
    return np.array([missing_in(frame[col].tolist()) for col in columns], dtype=bool).reshape(
        len(columns), len(frame)).T


def drop_missing(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """``frame`` without its rows that have a missing cell (:data:`MISSING`) in one of ``columns``, and how many
    rows that removed."""
    keep = ~_missing_cells(frame, columns).any(axis=1)
    kept = frame.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    kept.attrs = {**frame.attrs, "rows": file_rows(frame)[keep]}  # an array: pandas copies attrs deeply, often
    return kept, int((~keep).sum())


SPARSE = 0.25  # a column missing in more than this share of the rows is named as one to leave out


def check_no_missing(frame: pd.DataFrame, columns: list[str], fix: str) -> None:
    """Raise for the first missing cell (:data:`MISSING`) of ``columns``, in the file's order, advising ``fix``;
    the message counts the rows with a missing cell (what dropping them costs) and names the columns missing in
    more than :data:`SPARSE` of the rows, which are better left out than dropped for."""
    columns = sorted(columns, key=list(frame.columns).index)  # the file's order: row by row, left to right
    missing = _missing_cells(frame, columns)
    if missing.any():
        i, j = np.argwhere(missing)[0]
        column = columns[j]
        n = len(frame)
        sparse = [f"'{c}' ({int(k)} rows)" for c, k in zip(columns, missing.sum(axis=0), strict=True) if k > SPARSE * n]
        tally = f" ({int(missing.any(axis=1).sum())} of {n} rows have a missing cell" + (
            f"; mostly empty: {', '.join(sparse)}, better left out with --features" if sparse else "") + ")"
        raise InputError(f"{frame.attrs.get('path', '<data>')}: row {file_rows(frame)[i]}, column "
                         f"{list(frame.columns).index(column) + 1} ('{column}'): missing value "
                         f"('{frame[column].iloc[i]}'); {fix}{tally}")


def numeric_column(frame: pd.DataFrame, column: str, *, fill: float | None = None) -> np.ndarray:
    """Convert one column to float64 (a date to its :func:`decimal_year`), naming the first bad cell (text,
    missing, NaN or infinity); with ``fill`` a missing cell takes that value instead (NaN to find them)."""
    path = frame.attrs.get("path", "<data>")
    rows = file_rows(frame)
    col_no = list(frame.columns).index(column) + 1
    values = np.empty(len(frame), dtype=np.float64)
    for i, cell in enumerate(frame[column].tolist()):
        where = f"{path}: row {rows[i]}, column {col_no} ('{column}')"
        if is_missing(cell) and fill is not None:
            values[i] = fill
            continue
        if is_missing(cell):
            raise InputError(f"{where}: missing value ('{cell}'); fill the cell or drop the row")
        try:
            v = float(cell)
        except (TypeError, ValueError):
            v = decimal_year(cell)  # a date: its decimal year
            if v is None:
                fix = ("write dates year first (2012-07-02) or with the month's name (Jul 2 2012), which are read "
                       "as numbers"
                       if _DAY_OR_MONTH_FIRST.fullmatch(str(cell).strip()) else "fix the cell")
                raise InputError(f"{where}: '{cell}' is not a number; {fix} or leave the column out with "
                                 "--features") from None
        if not np.isfinite(v):
            raise InputError(f"{where}: value '{cell}' is not finite; remove or impute infinite values")
        values[i] = v
    return values
