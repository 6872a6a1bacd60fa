import os

import pytest


def test_torch_is_the_oracle_version():
    torch = pytest.importorskip("torch")
    if os.environ.get("RT_PARITY_REQUIRE_TORCH") == "1":
        assert torch.__version__.split("+")[0] == "2.13.0", torch.__version__
