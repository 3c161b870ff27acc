"""One self-contained HTML report per evaluation (``tools/test.py --report DIR``).

Each metric that is given ``report_dir`` writes its section (an HTML fragment
with its figures embedded as base64 PNG ``data:`` URIs) to
``DIR/sections/<metric>.html`` when it computes its results; ``tools/test.py``
then joins the sections into ``DIR/report.html`` with the run facts (config,
checkpoint, date) and the metric dict. The page has inline CSS only, no
scripts, fonts or links to fetch, so it opens offline and can be mailed or
archived as one file.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
from matplotlib.figure import Figure

from cxr_plugins.evaluation.metrics.operating_points import RATES
from cxr_plugins.visualization.curves import (
    dice_histogram,
    pr_grid,
    reliability_grid,
    roc_grid,
)

SECTIONS = 'sections'
STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;
       margin: 24px auto; max-width: 1150px; color: #1d2733; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccd;
     padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #d5d9e0; padding: 3px 8px; text-align: right; }
th { background: #eef1f6; } td:first-child, th:first-child { text-align: left; }
p.note { font-size: 13px; color: #4a5566; } img { max-width: 100%; }
.figures img { display: block; margin: 6px 0 18px; }
.examples img { display: inline-block; margin: 4px; vertical-align: top; }
"""


def figure_uri(figure: Figure) -> str:
    """A matplotlib figure as a base64 PNG ``data:`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode()


def picture_uri(picture: np.ndarray) -> str:
    """A BGR uint8 picture as a base64 PNG ``data:`` URI."""
    ok, encoded = cv2.imencode('.png', picture)
    if not ok:
        raise ValueError('could not encode picture as PNG')
    return 'data:image/png;base64,' + base64.b64encode(encoded.tobytes()).decode()


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _pct(point: float, low: float | None = None, high: float | None = None) -> str:
    if point is None or np.isnan(point):
        return 'undefined'
    text = f'{100 * point:.2f}'
    if low is not None and not np.isnan(low):
        text += f' [{100 * low:.2f}, {100 * high:.2f}]'
    return text


def _table(header: list[str], rows: list[list]) -> str:
    head = ''.join(f'<th>{html.escape(str(cell))}</th>' for cell in header)
    body = ''.join(
        '<tr>' + ''.join(f'<td>{html.escape(str(cell))}</td>' for cell in row) + '</tr>'
        for row in rows
    )
    return f'<table><tr>{head}</tr>{body}</table>'


def _interval(entry: dict, index=None) -> tuple:
    """(point, low, high) of an entry, with ``index`` into its arrays."""
    pick = (lambda v: v) if index is None else (lambda v: v[index])
    if 'low' not in entry:
        return (pick(entry['point']),)
    return pick(entry['point']), pick(entry['low']), pick(entry['high'])


def classification_section(
    result: dict, scores: np.ndarray, targets: np.ndarray
) -> str:
    """HTML for one AUC metric: tables with CIs, ROC / PR / reliability grids.

    Args:
        result: Output of
            :func:`cxr_plugins.evaluation.metrics.clinical.evaluate_scores`.
        scores: ``(N, C)`` probabilities of the scored classes.
        targets: ``(N, C)`` 0/1 targets (``-1`` ignored).
    """
    names, boot = result['names'], result['bootstrap']
    facts = f'{result["num_images"]} images'
    if result['num_patients'] is not None:
        facts += f' from {result["num_patients"]} patients'
    if boot:
        facts += (
            f'. Intervals: {100 * result["ci_level"]:.0f}% percentile bootstrap, '
            f'{boot} resamples of {result["resample_unit"]}s; "valid" counts the '
            'resamples in which the class has both label values (the others are '
            'dropped for that class only). Every class was defined in '
            f'{result["mean"]["complete"]} resamples; in the others an undefined '
            'class enters the mean with a draw from its own valid resamples.'
        )
    else:
        facts += '. No bootstrap intervals (bootstrap=0).'
    ece = result['calibration']['ece']
    rows = []
    for c, name in enumerate(names):
        rows.append(
            [
                name,
                int(result['positives'][c]),
                int(result['negatives'][c]),
                _pct(*_interval(result['auc'], c)),
                int(result['auc']['valid'][c]) if boot else '-',
                _pct(ece[c]),
            ]
        )
    rows.append(
        [
            'mean (defined classes)',
            '',
            '',
            _pct(*_interval(result['mean'])),
            int(result['mean']['valid']) if boot else '-',
            _pct(float(np.nanmean(ece))) if not np.isnan(ece).all() else 'undefined',
        ]
    )
    subset = result.get('subset')
    if subset is not None:
        rows.append(
            [
                f'mean (subset: {", ".join(subset["classes"])})',
                '',
                '',
                _pct(*_interval(subset)),
                int(subset['valid']) if boot else '-',
                '',
            ]
        )
    parts = [
        f'<p class="note">{html.escape(facts)}</p>',
        '<h3>Metrics</h3>',
        _table(
            ['class', 'positives', 'negatives', 'AUC % [CI]', 'valid', 'ECE %'], rows
        ),
        '<div class="figures"><h3>ROC curves</h3>',
        _img(figure_uri(roc_grid(scores, targets, names, result['auc'])), 'ROC curves'),
        '<h3>Precision-recall curves</h3>',
        _img(figure_uri(pr_grid(scores, targets, names)), 'precision-recall curves'),
        '<h3>Reliability diagrams</h3>',
        f'<p class="note">{result["calibration"]["bins"]} equal-width bins of the '
        'predicted probability; bars: observed positive rate, dots: mean predicted '
        'probability; ECE = bin-size-weighted mean gap.</p>',
        _img(
            figure_uri(
                reliability_grid(names, result['calibration']['reliability'], ece)
            ),
            'reliability diagrams',
        ),
        '</div>',
        _subgroup_html(result),
        _operating_point_html(result),
    ]
    return '\n'.join(parts)


def _subgroup_html(result: dict) -> str:
    if not result['subgroups']:
        return (
            '<h3>Subgroups</h3><p class="note">None requested or none available '
            '(the samples carry no sex / view / age / site metadata).</p>'
        )
    boot = result['bootstrap']
    rows = []
    for name, subgroup in result['subgroups'].items():
        for row in subgroup['groups']:
            mean = row['mean']
            rows.append(
                [
                    name,
                    row['value'],
                    row['num_images'],
                    '-' if row['num_patients'] is None else row['num_patients'],
                    'too small' if mean is None else _pct(*_interval(mean)),
                    int(mean['valid']) if boot and mean is not None else '-',
                ]
            )
        gap = subgroup['gap']
        if gap is not None:
            rows.append(
                [
                    name,
                    f'gap {gap["best"]} - {gap["worst"]}',
                    '',
                    '',
                    _pct(*_interval(gap)),
                    int(gap['valid']) if boot else '-',
                ]
            )
    classes = {
        name: sum(bool(k) for k in sub['classes_in_mean'])
        for name, sub in result['subgroups'].items()
    }
    note = (
        'Mean AUC of each group over the classes defined in every group of that '
        f'subgroup ({", ".join(f"{k}: {v}" for k, v in classes.items())} classes); '
        'the gap (best minus worst group) has a paired interval from the same '
        'resamples.'
    )
    return (
        '<h3>Subgroups</h3>'
        + f'<p class="note">{html.escape(note)}</p>'
        + _table(
            ['subgroup', 'group', 'images', 'patients', 'mean AUC % [CI]', 'valid'],
            rows,
        )
    )


def _operating_point_html(result: dict) -> str:
    op = result['operating_points']
    if op is None:
        return (
            '<h3>Operating points</h3><p class="note">Not reported: no thresholds '
            'fitted on validation were given (tools/test.py --operating-point '
            'youden, or --thresholds FILE).</p>'
        )
    rule = op['rule'] + (f' (target {op["target"]})' if op.get('target') else '')
    rows = []
    for c, name in enumerate(result['names']):
        threshold = op['thresholds'][c]
        row = [
            name,
            'undefined on validation' if np.isnan(threshold) else f'{threshold:.4f}',
        ]
        for k in range(len(RATES)):
            entry = {key: op[key] for key in ('point', 'low', 'high') if key in op}
            row.append(_pct(*_interval(entry, (c, k))))
        rows.append(row)
    note = (
        f'Thresholds chosen by {rule} on {op["fitted_on"]}, applied unchanged '
        'here; decision = score >= threshold.'
    )
    return (
        '<h3>Operating points</h3>'
        + f'<p class="note">{html.escape(note)}</p>'
        + _table(['class', 'threshold'] + [f'{r} % [CI]' for r in RATES], rows)
    )


def segmentation_section(
    dice: np.ndarray, metrics: dict, examples: list[tuple[str, np.ndarray]]
) -> str:
    """HTML for segmentation: the three Dice figures labelled, distribution, cases.

    Args:
        dice: Per-image Dice values (0-1).
        metrics: ``SIIMDice`` metric dict (in %).
        examples: ``(kind, picture)`` pairs, ``kind`` ``'best'`` or ``'worst'``.
    """

    def cell(key: str) -> str:
        return f'{metrics[key]:.2f}' if key in metrics else 'no such images'

    rows = [
        ['per-image Dice, SIIM empty-mask rule (headline; MRM)', cell('Dice')],
        ['  images with foreground', cell('Dice_positive')],
        ['  images without foreground', cell('Dice_negative')],
        ['pixel-pooled foreground Dice', cell('Dice_pixel_pooled')],
        [
            'mean of foreground and background Dice (mmseg mDice; EVA-X)',
            cell('mDice_with_background'),
        ],
    ]
    parts = [
        f'<p class="note">{len(dice)} images ({metrics["n_positive"]} with '
        f'foreground, {metrics["n_negative"]} without).</p>',
        _table(['Dice', '%'], rows),
        '<div class="figures"><h3>Per-image Dice distribution</h3>',
        _img(figure_uri(dice_histogram(dice)), 'Dice distribution'),
        '</div>',
    ]
    for kind in ('worst', 'best'):
        pictures = [p for k, p in examples if k == kind]
        if pictures:
            parts.append(
                f'<h3>{kind.capitalize()} {len(pictures)} images '
                '(green: ground truth, red: prediction)</h3><div class="examples">'
                + ''.join(_img(picture_uri(p), f'{kind} case') for p in pictures)
                + '</div>'
            )
    return '\n'.join(parts)


def write_section(report_dir: str | os.PathLike, name: str, fragment: str) -> Path:
    """Write one metric's fragment to ``report_dir/sections/<name>.html`` (atomic)."""
    folder = Path(report_dir) / SECTIONS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'{name}.html'
    temporary = path.with_name(f'.{path.name}.tmp')
    temporary.write_text(f'<h2>{html.escape(name)}</h2>\n{fragment}\n')
    os.replace(temporary, path)
    return path


def assemble_report(
    report_dir: str | os.PathLike, title: str, facts: dict[str, str], metrics: dict
) -> Path:
    """Join the sections into ``report_dir/report.html``.

    Args:
        report_dir: Folder the metrics wrote their sections to.
        title: Page title.
        facts: Run facts shown at the top (config, checkpoint, ...).
        metrics: The metric dict of the run, listed at the end.

    Raises:
        FileNotFoundError: No metric wrote a section.
    """
    folder = Path(report_dir)
    sections = sorted((folder / SECTIONS).glob('*.html'))
    if not sections:
        raise FileNotFoundError(
            f'{folder / SECTIONS}: no report sections; no test metric accepted '
            'report_dir'
        )
    stamp = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    fact_rows = [[key, value] for key, value in facts.items()] + [['written', stamp]]
    metric_rows = [
        [key, f'{value:.4f}' if isinstance(value, float) else value]
        for key, value in metrics.items()
    ]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>'
        f'<h1>{html.escape(title)}</h1>'
        + _table(['run', ''], fact_rows)
        + ''.join(section.read_text() for section in sections)
        + '<h2>All logged metrics</h2>'
        + _table(['key', 'value'], metric_rows)
        + '</body></html>\n'
    )
    path = folder / 'report.html'
    temporary = path.with_name(f'.{path.name}.tmp')
    temporary.write_text(page)
    os.replace(temporary, path)
    return path
