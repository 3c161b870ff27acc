"""The main demo job (tools/run_demo.sh) end to end on the embedded data.

DEMO_SCALE=quick shortens every schedule to a couple of epochs/iterations; the
job still pretrains, fine-tunes, tests and segments on the real demo images.
"""

import re
import sys
from pathlib import Path

import pytest
from cxr_test_utils import output_of, run_tool

from cxr_plugins.datasets.nih_cxr14 import NIH_CLASSES


@pytest.mark.slow
def test_run_demo_quick(tmp_path):
    work = tmp_path / 'demo'
    # the running environment (sys.prefix: a venv's python is a link to the
    # base interpreter, so resolving sys.executable would leave the venv)
    venv = Path(sys.prefix)
    result = run_tool(
        ['bash', 'tools/run_demo.sh', str(work)],
        timeout=1500,
        DEMO_SCALE='quick',
        CXR_VENV=str(venv),
    )
    log = output_of(result)
    assert result.returncode == 0, log[-6000:]
    test_line = next(line for line in log.splitlines() if 'Epoch(test)' in line)
    for name in [*NIH_CLASSES, 'mAUC']:
        value = re.search(rf'auc/{name}: (\S+)', test_line)
        assert value, f'test AUC of {name} not printed'
        assert value[1] == 'nan' or 0 <= float(value[1]) <= 100, value[1]
    assert 0 < float(re.search(r'auc/mAUC: (\S+)', test_line)[1]) <= 100
    seg_test = next(line for line in log.splitlines() if 'Iter(test)' in line)
    assert 0 < float(re.search(r'mDice: (\S+)', seg_test)[1]) <= 100
    assert 'demo finished' in log
    assert (work / 'pretrain' / 'epoch_2.pth').is_file()
    # NIH-14: two of the five folds in the quick run, pooled out of fold
    for fold in ('fold0', 'fold1'):
        assert (work / 'classification' / fold / 'epoch_2.pth').is_file()
    pooled = work / 'classification' / 'test_outputs' / 'predictions.csv'
    assert 300 < len(pooled.read_text().splitlines()) < 500  # ~2/5 of 1,000
    assert '5-fold patient cross-fitting (2 of its folds run)' in log
    assert list((work / 'segmentation').glob('best_*.pth'))
