"""Every tool has the same interface: ``main(argv=None)``, ``--help`` with an
example, and no ``sys.path`` edits anywhere (shared helpers live in the package).
"""

import inspect
import re

import pytest
from cxr_test_utils import REPO_ROOT, load_tool

TOOLS = sorted(
    str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / 'tools').rglob('*.py')
) + ['benchmarks/measure_worker_memory.py', 'benchmarks/time_label_parsing.py']


@pytest.mark.parametrize('tool', TOOLS)
def test_tool_main_takes_argv_and_help_shows_an_example(tool, capsys):
    module = load_tool(tool)
    parameters = inspect.signature(module.main).parameters
    assert list(parameters) == ['argv'], f'{tool}: main{list(parameters)}'
    assert parameters['argv'].default is None, tool
    try:
        module.main(['--help'])
    except SystemExit as exit_info:
        assert exit_info.code == 0, tool
    # (torch's @record, on tools/train.py, turns exit code 0 into a return)
    help_text = capsys.readouterr().out
    assert 'Example' in help_text and f'python {tool}' in help_text, help_text


def test_no_sys_path_edits():
    folders = ('cxr_plugins', 'tools', 'tests', 'benchmarks')
    pattern = re.compile(r'sys\.path\.(insert|append)|sys\.path\s*=')
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in folders
        for path in (REPO_ROOT / folder).rglob('*.py')
        if pattern.search(path.read_text())
    ]
    assert not offenders, offenders
