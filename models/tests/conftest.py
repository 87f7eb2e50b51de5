"""Each test describes its architectures afresh.

``models.describe`` is cached per process; without this, only the first test to describe an
architecture would run the code that builds its spec and recipe, and `make mutate`,
which runs for each mutant only the tests seen calling the mutated function, would credit that
first test alone with pinning the recipe (models/tests/test_recipes.py would never be run
against a mutated seed recipe).
"""

import pytest

from cnnbench.models import registry


@pytest.fixture(autouse=True)
def _fresh_describe():
    registry._describe.cache_clear()
    yield
