"""Python API: classify radiographs with a trained model.

Example (needs the checkpoint of ``tools/run_demo.sh``)::

    from cxr_plugins.apis import init_classifier, predict_image

    config = 'configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py'
    model = init_classifier(config, 'work_dirs/demo/classification/best.pth')
    predict_image(model, 'data/demo/nih14_64px/images/00000001_000.png')
"""

from cxr_plugins.apis.inference import (
    build_test_pipeline,
    class_names_from_config,
    find_images,
    init_classifier,
    predict_batch,
    predict_image,
    prepare_batch,
)

__all__ = [
    'build_test_pipeline',
    'class_names_from_config',
    'find_images',
    'init_classifier',
    'predict_batch',
    'predict_image',
    'prepare_batch',
]
