"""membership_in_home: the request-scoping lookup, held equal to what the ORM returns."""
import decimal

import pytest
from django.forms.models import model_to_dict

from homes.models import Membership
from homes.selectors import membership_in_home
from tests import factories as f

pytestmark = pytest.mark.django_db


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_row_equals_the_orms_membership_home_and_user(home, owner):
    home.layout = {"r1": {"x": 1.5, "y": 0, "width": 3, "height": 2}, "note": "snake_key ok"}
    home.model3d_url = "https://cdn.example.com/m.glb"
    home.latitude, home.longitude = decimal.Decimal("40.416775"), decimal.Decimal("-3.703790")
    home.save()
    guest = f.add_member(home, role="guest")

    for user in (owner, guest):
        fast = membership_in_home(home.pk, user.pk)
        orm = Membership.objects.select_related("home", "user").get(home=home, user=user)
        assert field_values(fast) == field_values(orm)
        assert field_values(fast.home) == field_values(orm.home)
        assert field_values(fast.user) == field_values(orm.user)
        assert fast.home.layout["r1"]["x"] == 1.5  # JSON decoded, not text
        assert not fast._state.adding and fast.home._state.db == "default"
        assert model_to_dict(fast.home) == model_to_dict(orm.home)


def test_no_membership_for_an_outsider_an_inactive_user_or_another_home(home, owner):
    outsider = f.UserFactory()
    other = f.make_home(outsider)
    assert membership_in_home(home.pk, outsider.pk) is None
    assert membership_in_home(other.pk, owner.pk) is None
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert membership_in_home(home.pk, owner.pk) is None


def test_the_loaded_home_can_be_saved_like_any_other(home, owner):
    membership = membership_in_home(home.pk, owner.pk)
    membership.home.name = "Renamed"
    membership.home.save(update_fields=["name"])
    home.refresh_from_db()
    assert home.name == "Renamed"
