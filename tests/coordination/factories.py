import factory
from django.conf import settings

from coordination.models import (
    Agency,
    CountryTeam,
    Membership,
    Region,
    TeamAgency,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(settings.DEMO_PASSWORD)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda a: f"Agency {a.code}")
    kind = "fund_programme"


def _alpha3(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "X" + letters[(n // 26) % 26] + letters[n % 26]


class CountryTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CountryTeam
        django_get_or_create = ("code",)

    code = factory.Sequence(_alpha3)
    name = factory.LazyAttribute(lambda t: f"Country {t.code}")
    iso_alpha2 = factory.LazyAttribute(lambda t: t.code[1:])
    region = Region.AFRICA


class TeamAgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamAgency
        django_get_or_create = ("country_team", "agency")

    country_team = factory.SubFactory(CountryTeamFactory)
    agency = factory.SubFactory(AgencyFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    country_team = factory.SubFactory(CountryTeamFactory)
    role = "rco"
    agency = None
