_base_ = ['./cxr_224px_common.py']

# NIH ChestX-ray14 at 224 px with the official split as medical_mae / EVA-X
# ship it (<png> <14 x 0/1> lists, 75,312 / 11,212 / 25,596 images). For MRM's
# random split use ann_file='mrm_splits/{train_list,val_list,test_list}.txt'
# (and train_1/train_10 for 1 % / 10 %), or fraction=0.01/0.1.
dataset_type = 'NIHChestXray14'
data_root = 'data/nih-cxr14/'

# NIH statistics of medical_mae (arXiv:2210.12843), in 0-255 units.
data_preprocessor = dict(
    num_classes=14, mean=[128.928] * 3, std=[64.26] * 3, to_rgb=False
)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train_official.txt',
        data_prefix='images',
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val_official.txt',
        data_prefix='images',
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test_official.txt',
        data_prefix='images',
    ),
)
