# Sample meta kept by PackInputs: mmpretrain's defaults plus the patient and
# subgroup keys the datasets carry (CXR_META_KEYS of cxr_plugins.datasets;
# subgroup metrics and the patient-level bootstrap read them).
cxr_meta_keys = (
    'sample_idx',
    'img_path',
    'ori_shape',
    'img_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'patient_id',
    'sex',
    'age',
    'view',
    'site',
)
