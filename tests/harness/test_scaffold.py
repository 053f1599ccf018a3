import ast

import pytest

from plasticbench.benchmark.scaffold import new_method


def test_new_method_writes_a_parseable_method_and_test(tmp_path):
    paths = new_method("my_method", tmp_path)
    assert [p.name for p in paths] == ["my_method.py", "test_my_method.py"]
    source = paths[0].read_text()
    ast.parse(source)
    ast.parse(paths[1].read_text())
    assert '@register_method("my_method"' in source and "class MyMethod(Method)" in source
    with pytest.raises(ValueError, match="overwrite"):
        new_method("my_method", tmp_path)


@pytest.mark.parametrize("bad", ["MyMethod", "1x", "class", "a-b"])
def test_bad_names_are_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="identifier"):
        new_method(bad, tmp_path)
