"""Install cxr_plugins: ``python -m pip install -e .[seg,tests]``."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list[str]:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines if line.split('#')[0].strip()]


version: dict = {}
exec((HERE / 'cxr_plugins' / 'version.py').read_text(), version)

setup(
    name='cxr_plugins',
    version=version['__version__'],
    description='OpenMMLab plugins for chest X-ray representation learning',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(include=['cxr_plugins', 'cxr_plugins.*']),
    include_package_data=True,
    install_requires=read_requirements('runtime'),
    extras_require={
        'seg': read_requirements('seg'),
        'tests': read_requirements('tests'),
        'all': read_requirements('seg') + read_requirements('tests'),
    },
    license='Apache-2.0',
)
