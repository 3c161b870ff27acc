"""The dataset base configs build and feed mmpretrain's data preprocessor."""

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import DATASETS

import cxr_plugins  # noqa: F401  (registers the datasets and transforms)


def test_nih14_demo_config(repo_root):
    cfg = Config.fromfile(repo_root / 'configs/_base_/datasets/cls_nih14-demo_64px.py')
    preprocessor = ClsDataPreprocessor(**cfg.data_preprocessor)
    seen = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[key].dataset
        dataset_cfg.data_root = str(repo_root / dataset_cfg.data_root)
        dataset = DATASETS.build(dataset_cfg)
        seen[key] = set(dataset.table.patient_id)
        batch = preprocessor(pseudo_collate([dataset[i] for i in range(4)]))
        assert batch['inputs'].shape == (4, 3, 64, 64)
        assert batch['inputs'].dtype.is_floating_point
        assert abs(float(batch['inputs'].mean())) < 3
        scores = np.stack([s.gt_score.numpy() for s in batch['data_samples']])
        assert scores.shape == (4, 14)
    assert not seen['train_dataloader'] & seen['test_dataloader']
    assert not seen['val_dataloader'] & seen['test_dataloader']
    assert cfg.val_evaluator['type'] == 'MultiLabelAUC'


CONFIGS = [
    'cls_nih-cxr14_224px',
    'cls_chexpert_224px',
    'cls_mimic-cxr-abnormal_224px',
    'cls_covidx9a_224px',
    'cls_rsna-pneumonia_224px',
    'cls_cxr-imagefolder_224px',
]
# Where the real label files let a config's datasets be built as configured
# (only data_root / ann_file pointed at ../shared/data).
REAL_LABELS = {
    'cls_nih-cxr14_224px': (
        'nih_cxr14',
        dict(
            train_dataloader='mrm_splits/train_10.txt',
            val_dataloader='mrm_splits/val_list.txt',
            test_dataloader='mrm_splits/test_list.txt',
        ),
    ),
    'cls_covidx9a_224px': ('covidx', {}),
    'cls_rsna-pneumonia_224px': ('rsna_pneumonia', {}),
}


@pytest.mark.parametrize('name', CONFIGS)
def test_dataset_base_configs(name, repo_root, shared_data):
    from mmpretrain.registry import TRANSFORMS

    cfg = Config.fromfile(repo_root / f'configs/_base_/datasets/{name}.py')
    assert cfg.data_preprocessor['to_rgb'] is False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[key].dataset
        assert DATASETS.get(dataset_cfg.type) is not None
        transforms = [TRANSFORMS.build(t) for t in dataset_cfg.pipeline]
        first = 'FastXRayRandomResizedCrop' if key == 'train_dataloader' else None
        assert type(transforms[0]).__name__ == (first or 'LoadXRayImage')
        if name not in REAL_LABELS:
            continue
        folder, ann_files = REAL_LABELS[name]
        dataset_cfg.data_root = str(shared_data / 'labels' / folder)
        dataset_cfg.ann_file = ann_files.get(key, dataset_cfg.ann_file)
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) > 100
        assert len(dataset.metainfo['classes']) == cfg.data_preprocessor.num_classes
