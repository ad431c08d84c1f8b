import pytest

from ownership.services import field_rules_defaults_load


@pytest.fixture(autouse=True)
def default_rules(db):
    """The rules the migration loads (a transactional test's flush may have removed them)."""
    field_rules_defaults_load()
