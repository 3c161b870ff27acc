"""Image + report pairs for MRM pretraining, and report-text loaders.

Zhou et al., MRM (https://arxiv.org/abs/2301.13155) pretrains on MIMIC-CXR
image/report pairs listed in a ``training.csv`` with columns ``image_path`` and
``report_content``. :class:`CXRImageReportDataset` reads that CSV, the MIMIC-CXR
layout itself (``mimic-cxr-2.0.0-metadata.csv`` + ``files/pXX/pNNN/sNNN.txt``
reports + ``files/pXX/pNNN/sNNN/<dicom_id>.jpg`` images), and the ieee8023
COVID-19 collection (``metadata.csv``: ``folder``/``filename`` +
``clinical_notes``). :func:`load_iu_xray_reports` reads the Indiana University
(Open-i) report XMLs for tokenizer training. :class:`MRMTokenizeReport`
tokenises and whole-word-masks the report in the data pipeline.
"""

from __future__ import annotations

import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
from mmcv.transforms import BaseTransform
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, TRANSFORMS

from cxr_plugins.datasets.text_tokenizer import (
    encode_report,
    load_report_tokenizer,
    whole_word_mask,
)

IU_XRAY_SECTIONS = ('FINDINGS', 'IMPRESSION')


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], path: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(
            f'{path}: missing column(s) {missing}; found {list(frame.columns)}'
        )


def load_iu_xray_reports(
    tgz_path: str | Path, sections: tuple[str, ...] = IU_XRAY_SECTIONS
) -> list[str]:
    """Read the IU-Xray (Open-i) reports from ``NLMCXR_reports.tgz``.

    Args:
        tgz_path: The archive of ``ecgen-radiology/<n>.xml`` files.
        sections: ``AbstractText`` labels to join, in order.

    Returns:
        One string per report that has text in at least one section.
    """
    reports = []
    with tarfile.open(tgz_path, 'r:gz') as archive:
        for member in archive:
            if not member.name.endswith('.xml'):
                continue
            root = ET.parse(archive.extractfile(member)).getroot()
            texts = {
                node.get('Label'): (node.text or '').strip()
                for node in root.iter('AbstractText')
            }
            report = ' '.join(texts[s] for s in sections if texts.get(s))
            if report:
                reports.append(report)
    return reports


def mimic_report_path(root: Path, subject_id: int, study_id: int) -> Path:
    """``files/pXX/p<subject>/s<study>.txt`` under ``root``."""
    subject = f'p{subject_id}'
    return root / 'files' / subject[:3] / subject / f's{study_id}.txt'


@DATASETS.register_module()
class CXRImageReportDataset(BaseDataset):
    """(image, report) pairs for MRM.

    Args:
        ann_file: The table to read; its format is set by ``source``.
        source: ``'csv'`` (columns ``image_path, report_content``; MRM's
            ``training.csv``), ``'mimic'`` (``mimic-cxr-2.0.0-metadata.csv``
            with ``dicom_id, subject_id, study_id, ViewPosition``; reports under
            ``report_root``) or ``'covid_ieee8023'`` (``metadata.csv`` with
            ``folder, filename, clinical_notes``; rows without notes skipped).
        report_root: Folder holding ``files/pXX/...txt`` (``'mimic'`` only);
            relative paths are joined to ``data_root``.
        views: Keep only these ``ViewPosition``/``view`` values (None: all).
        **kwargs: ``data_root``, ``data_prefix`` (image folder), ``pipeline``...
            of mmpretrain's ``BaseDataset``.

    Each sample has ``img_path`` and ``report`` (str).
    """

    SOURCES = ('csv', 'mimic', 'covid_ieee8023')

    def __init__(
        self,
        ann_file: str,
        source: str = 'csv',
        report_root: str = '',
        views: tuple[str, ...] | None = None,
        **kwargs,
    ) -> None:
        if source not in self.SOURCES:
            raise ValueError(f'source must be one of {self.SOURCES}, got {source!r}')
        self.source = source
        self.report_root = report_root
        self.views = tuple(views) if views is not None else None
        super().__init__(ann_file=ann_file, **kwargs)

    def _image_path(self, relative: str) -> str:
        return str(Path(self.data_prefix['img_path']) / relative)

    def load_data_list(self) -> list[dict]:
        """Read the table named by ``ann_file`` according to ``source``."""
        frame = pd.read_csv(self.ann_file)
        loader = {
            'csv': self._load_csv,
            'mimic': self._load_mimic,
            'covid_ieee8023': self._load_covid,
        }[self.source]
        data_list = loader(frame)
        if not data_list:
            raise ValueError(
                f'{self.ann_file}: no image/report pairs after filtering '
                f'(source={self.source!r}, views={self.views})'
            )
        return data_list

    def _load_csv(self, frame: pd.DataFrame) -> list[dict]:
        _require_columns(frame, ('image_path', 'report_content'), self.ann_file)
        frame = frame.dropna(subset=['report_content'])
        return [
            dict(
                img_path=self._image_path(row.image_path),
                report=str(row.report_content),
            )
            for row in frame.itertuples(index=False)
        ]

    def _load_mimic(self, frame: pd.DataFrame) -> list[dict]:
        _require_columns(
            frame, ('dicom_id', 'subject_id', 'study_id', 'ViewPosition'), self.ann_file
        )
        if self.views is not None:
            frame = frame[frame['ViewPosition'].isin(self.views)]
        report_root = Path(self.report_root)
        if not report_root.is_absolute():
            report_root = Path(self.data_root) / report_root
        data_list = []
        for row in frame.itertuples(index=False):
            report_path = mimic_report_path(report_root, row.subject_id, row.study_id)
            if not report_path.is_file():
                raise FileNotFoundError(
                    f'{self.ann_file}: report for dicom {row.dicom_id} not found at '
                    f'{report_path}'
                )
            image = mimic_report_path(
                Path(''), row.subject_id, row.study_id
            ).with_suffix('')
            data_list.append(
                dict(
                    img_path=self._image_path(str(image / f'{row.dicom_id}.jpg')),
                    report=report_path.read_text(encoding='utf-8'),
                )
            )
        return data_list

    def _load_covid(self, frame: pd.DataFrame) -> list[dict]:
        _require_columns(frame, ('filename', 'clinical_notes', 'view'), self.ann_file)
        frame = frame.dropna(subset=['clinical_notes'])
        frame = frame[frame['clinical_notes'].str.strip() != '']
        if self.views is not None:
            frame = frame[frame['view'].isin(self.views)]
        return [
            dict(
                img_path=self._image_path(row.filename), report=str(row.clinical_notes)
            )
            for row in frame.itertuples(index=False)
        ]


@TRANSFORMS.register_module()
class MRMTokenizeReport(BaseTransform):
    """Tokenise ``results['report']`` and mask whole words (MRM text input).

    Adds ``masked_input_ids`` and ``mlm_labels`` (``(max_length,)`` long
    tensors; labels are -100 where not masked). Pack them with
    ``PackInputs(algorithm_keys=['masked_input_ids', 'mlm_labels'])``.

    Args:
        tokenizer_file: Tokenizer json from ``tools/train_tokenizer.py``.
        max_length: Sequence length incl. ``[CLS]`` (MRM: 100).
        mask_prob: Per-word masking probability (MRM: 0.5).
    """

    def __init__(
        self, tokenizer_file: str, max_length: int = 100, mask_prob: float = 0.5
    ) -> None:
        self.tokenizer_file = tokenizer_file
        self.tokenizer = load_report_tokenizer(tokenizer_file)
        self.max_length = max_length
        self.mask_prob = mask_prob

    def transform(self, results: dict) -> dict:
        """Encode and mask the report."""
        input_ids, word_ids = encode_report(
            self.tokenizer, results['report'], self.max_length
        )
        masked_ids, labels = whole_word_mask(input_ids, word_ids, self.mask_prob)
        results['masked_input_ids'] = masked_ids
        results['mlm_labels'] = labels
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(tokenizer_file={self.tokenizer_file!r}, '
            f'max_length={self.max_length}, mask_prob={self.mask_prob})'
        )
