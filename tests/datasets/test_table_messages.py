"""Label-table errors say what is wrong and where (issue 18, item 7).

Provokes: an empty CSV (pandas raised a bare ``EmptyDataError``) and a CSV
whose only non-UTF-8 byte is on line 9 (pandas reported "position 1", an
offset inside its read buffer). Both must raise :class:`LabelTableError`
naming the file, and the line for the encoding error.
"""

from __future__ import annotations

import gzip

import pytest

from cxr_plugins.datasets.tables import LabelTableError, read_csv_table


def test_empty_csv_names_the_file(tmp_path):
    path = tmp_path / 'Data_Entry_2017.csv'
    path.write_bytes(b'')
    with pytest.raises(LabelTableError, match='Data_Entry_2017.csv: file is empty'):
        read_csv_table(path, ['Image Index'])


@pytest.mark.parametrize('suffix', ['.csv', '.csv.gz'])
def test_non_utf8_byte_reports_its_line(tmp_path, suffix):
    lines = [b'Image Index,Finding Labels'] + [
        f'{index:08d}_000.png,No Finding'.encode() for index in range(7)
    ]
    lines.append(b'00000007_000.png,Pneumoth\xf6rax')
    content = b'\n'.join(lines) + b'\n'
    path = tmp_path / f'labels{suffix}'
    path.write_bytes(gzip.compress(content) if suffix.endswith('.gz') else content)
    with pytest.raises(LabelTableError) as error:
        read_csv_table(path, ['Image Index'])
    assert error.value.line == 9
    assert f'{path}, line 9: not UTF-8' in str(error.value)
