"""The main demo job (tools/run_demo.sh) end to end on the embedded data.

DEMO_SCALE=quick shortens every schedule to a couple of epochs/iterations; the
job still pretrains, fine-tunes, tests and segments on the real demo images.
"""

import sys
from pathlib import Path

import pytest
from cxr_test_utils import output_of, run_tool

NIH_CLASSES = [
    'Atelectasis',
    'Cardiomegaly',
    'Effusion',
    'Infiltration',
    'Mass',
    'Nodule',
    'Pneumonia',
    'Pneumothorax',
    'Consolidation',
    'Edema',
    'Emphysema',
    'Fibrosis',
    'Pleural_Thickening',
    'Hernia',
]


@pytest.mark.slow
def test_run_demo_quick(tmp_path):
    work = tmp_path / 'demo'
    venv = Path(sys.executable).resolve().parents[1]
    result = run_tool(
        ['bash', 'tools/run_demo.sh', str(work)],
        timeout=1500,
        DEMO_SCALE='quick',
        CXR_VENV=str(venv),
    )
    log = output_of(result)
    assert result.returncode == 0, log[-6000:]
    for name in NIH_CLASSES:
        assert name in log, f'per-class AUC of {name} not printed'
    assert 'auc/mAUC' in log
    assert 'mDice' in log
    assert 'demo finished' in log
    assert (work / 'pretrain' / 'epoch_2.pth').is_file()
    assert list((work / 'classification').glob('best_*.pth'))
    assert (work / 'classification' / 'test_outputs' / 'predictions.csv').is_file()
    assert list((work / 'segmentation').glob('best_*.pth'))
