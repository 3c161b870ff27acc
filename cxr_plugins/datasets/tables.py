"""Vectorised readers and validators for chest X-ray label tables.

Every error names the file, the 1-based line (counting a header line) and the
column, and says what was expected, so a broken table is found in one read.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


class LabelTableError(ValueError):
    """A label or split table that does not have the expected content."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        line: int | None = None,
        column: str | None = None,
    ):
        self.path = str(path)
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f', line {line}'
        if column is not None:
            where += f', column {column!r}'
        super().__init__(f'{where}: {message}')


def _short_list(values: Sequence, limit: int = 5) -> str:
    shown = ', '.join(repr(str(v)) for v in list(values)[:limit])
    more = len(values) - limit
    return shown + (f' (+{more} more)' if more > 0 else '')


def _first_non_utf8_line(path: Path) -> int | None:
    """1-based line of the first byte that is not UTF-8 (``None`` for archives).

    pandas reports a position inside its read buffer, not in the file.
    """
    if path.suffix in ('.zip', '.bz2', '.xz', '.zst'):
        return None
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rb') as handle:
        raw = handle.read()
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError as err:
        return raw.count(b'\n', 0, err.start) + 1
    return None


def read_csv_table(
    path: str | Path, required_columns: Sequence[str], dtype: dict | None = None
) -> pd.DataFrame:
    """Read a CSV (plain or ``.gz``/``.zip``) and check its columns.

    Row ``i`` of the frame is line ``i + 2`` of the file (line 1 = header).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: label table does not exist')
    try:
        frame = pd.read_csv(path, dtype=dtype, low_memory=False)
    except pd.errors.EmptyDataError as err:
        raise LabelTableError(
            path, 'file is empty; expected a header line and one row per image'
        ) from err
    except UnicodeDecodeError as err:
        raise LabelTableError(
            path,
            f'not UTF-8 ({err.reason}); save the table as UTF-8',
            line=_first_non_utf8_line(path),
        ) from err
    except pd.errors.ParserError as err:
        raise LabelTableError(path, f'cannot parse as CSV ({err})') from err
    missing = [name for name in required_columns if name not in frame.columns]
    if missing:
        raise LabelTableError(
            path, f'missing column(s) {missing}; found {list(frame.columns)}', line=1
        )
    return frame


def read_split_file(path: str | Path, num_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Read a whitespace-separated ``<name> <num_values x int>`` list.

    Used for the MRM / medical_mae / EVA-X split files (``num_values=0`` for a
    bare list of names). Blank lines are not allowed (they shift line numbers).

    Returns:
        ``(names, values)``: a str array (N,) and an int64 array
        (N, num_values).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: split file does not exist')
    width = num_values + 2  # one spare column catches lines with extra fields
    try:
        fields = pd.read_csv(
            path,
            sep=r'\s+',
            header=None,
            names=range(width),
            dtype=str,
            skip_blank_lines=False,
            engine='c',
        )
    except pd.errors.EmptyDataError as err:
        raise LabelTableError(path, 'split file is empty') from err
    except pd.errors.ParserError as err:
        raise LabelTableError(path, f'wrong number of fields ({err})') from err
    counts = fields.notna().sum(axis=1).to_numpy()
    bad = np.flatnonzero(counts != num_values + 1)
    if bad.size:
        first = int(bad[0])
        found = ' '.join(fields.iloc[first].dropna())
        raise LabelTableError(
            path,
            f'expected a name and {num_values} label value(s), found '
            f'{counts[first]} field(s): {found!r}',
            line=first + 1,
        )
    names = fields[0].to_numpy(dtype=str)
    if num_values == 0:
        return names, np.zeros((len(names), 0), dtype=np.int64)
    raw = fields.iloc[:, 1 : num_values + 1]
    invalid = ~raw.isin(['0', '1']).to_numpy()
    if invalid.any():
        row, col = np.argwhere(invalid)[0]
        raise LabelTableError(
            path,
            f'label value {raw.iat[row, col]!r} is not 0 or 1',
            line=int(row) + 1,
            column=f'value {col + 1}',
        )
    return names, (raw.to_numpy() == '1').astype(np.int64)


def check_unique(
    path: str | Path, values: np.ndarray, column: str, first_line: int = 1
) -> None:
    """Raise if ``values`` (one per data line) has a duplicate."""
    duplicated = pd.Series(values).duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise LabelTableError(
            path,
            f'duplicate image id {str(values[row])!r}',
            line=row + first_line,
            column=column,
        )


def locate(
    path: str | Path,
    names: np.ndarray,
    table_names: np.ndarray,
    table_path: str | Path,
    first_line: int = 1,
) -> np.ndarray:
    """Row index in ``table_names`` of each of ``names``; every one must exist.

    Args:
        path: The split file ``names`` came from (for the error message).
        names: The names listed there, one per line from ``first_line``.
        table_names: Unique names of the label table.
        table_path: The label table (for the error message).
    """
    index = pd.Index(table_names)
    positions = index.get_indexer(names)
    missing = np.flatnonzero(positions < 0)
    if missing.size:
        row = int(missing[0])
        raise LabelTableError(
            path,
            f'{missing.size} image(s) are not in the label table '
            f'{table_path}: {_short_list(names[missing])}',
            line=row + first_line,
        )
    return positions


def check_values(
    path: str | Path,
    frame: pd.DataFrame,
    columns: Sequence[str],
    allowed: Sequence[float],
    allow_blank: bool,
    first_line: int = 2,
) -> None:
    """Raise on the first cell of ``columns`` outside ``allowed`` (or blank)."""
    values = frame[list(columns)].apply(pd.to_numeric, errors='coerce')
    blank = frame[list(columns)].isna().to_numpy()
    ok = values.isin(list(allowed)).to_numpy().copy()
    if allow_blank:
        ok |= blank
    if not ok.all():
        row, col = np.argwhere(~ok)[0]
        cell = frame[columns[col]].iat[row]
        raise LabelTableError(
            path,
            ('blank value' if pd.isna(cell) else f'value {str(cell)!r}')
            + ' is not one of '
            f'{list(allowed)}' + (' or blank' if allow_blank else ''),
            line=int(row) + first_line,
            column=columns[col],
        )


def extract_ids(
    path: str | Path,
    values: np.ndarray,
    pattern: str,
    what: str,
    first_line: int = 1,
    column: str | None = None,
) -> np.ndarray:
    """First regex group of ``pattern`` in each value; a non-match raises.

    A plain ``re`` loop: pandas' ``str.extract`` on object strings is about
    10x slower on 200k paths.
    """
    compiled = re.compile(pattern)
    matches = [compiled.search(value) for value in values.tolist()]
    for row, match in enumerate(matches):
        if match is None:
            raise LabelTableError(
                path,
                f'{str(values[row])!r} does not contain a {what} (pattern {pattern})',
                line=row + first_line,
                column=column,
            )
    return np.array([match.group(1) for match in matches])


def read_id_list(path: str | Path, field: int = 0) -> np.ndarray:
    """The ``field``-th whitespace-separated field of every line of a list.

    The one reader of split / id lists (NIH ``train_val_list.txt``, MRM lists,
    SIIM ImageId lists, COVIDx ``<patient> <file> ...``). An empty file, a
    blank line, a line with too few fields or bytes that are not UTF-8 raise
    :class:`LabelTableError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: list does not exist')
    try:
        lines = path.read_text(encoding='utf-8').splitlines()
    except UnicodeDecodeError as err:
        raise LabelTableError(path, f'not UTF-8 text ({err})') from err
    if not lines:
        raise LabelTableError(path, 'list is empty')
    ids = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            raise LabelTableError(path, 'blank line', line=number)
        if len(fields) <= field:
            raise LabelTableError(
                path, f'expected at least {field + 1} field(s): {line!r}', line=number
            )
        ids.append(fields[field])
    return np.asarray(ids, dtype=str)
