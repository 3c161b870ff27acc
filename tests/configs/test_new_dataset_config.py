"""A new dataset is added by inheriting a config, with no new code.

The README documents this pattern; here a 'new site' with NIH
Data_Entry-style labels and its own image folder is trained for one short
epoch and evaluated by inheriting the demo classification recipe.
"""

import shutil
import sys

import pandas as pd
from cxr_test_utils import REPO_ROOT, output_of, run_tool
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

import cxr_plugins  # noqa: F401

RECIPE = REPO_ROOT / 'configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py'


def _make_site(root, demo_dir, count: int = 48) -> None:
    labels = pd.read_csv(demo_dir / 'nih14_64px' / 'labels.csv').head(count)
    (root / 'radiographs').mkdir(parents=True)
    for path in labels['path']:
        shutil.copy(demo_dir / 'nih14_64px' / path, root / 'radiographs')
    labels[['Image Index', 'Finding Labels', 'Patient ID']].to_csv(
        root / 'site_labels.csv', index=False
    )


def test_new_dataset_by_config_inheritance(tmp_path, demo_dir):
    site = tmp_path / 'my_site'
    _make_site(site, demo_dir)
    config = tmp_path / 'vit-demo_my-site.py'
    config.write_text(f"""
_base_ = ['{RECIPE}']
site = dict(data_root='{site}/', ann_file='site_labels.csv',
            data_prefix=dict(img_path='radiographs/'),
            patient_split=dict(train=0.5, val=0.25, test=0.25))
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=site)
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=site)
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=site)
train_cfg = dict(max_epochs=1, val_interval=1)
""")
    cfg = Config.fromfile(str(config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        splits = {
            name: DATASETS.build(cfg[f'{name}_dataloader']['dataset'])
            for name in ('train', 'val', 'test')
        }
    assert sum(len(dataset) for dataset in splits.values()) == 48
    paths = [
        splits['train'].get_data_info(i)['img_path']
        for i in range(len(splits['train']))
    ]
    assert all(path.startswith(str(site / 'radiographs')) for path in paths)

    result = run_tool(
        [
            sys.executable,
            'tools/train.py',
            str(config),
            '--work-dir',
            str(tmp_path / 'work'),
        ]
    )
    log = output_of(result)
    assert result.returncode == 0, log[-4000:]
    assert 'auc/mAUC' in log
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
