"""factory-boy factories for the domain models."""

from datetime import timedelta

import factory
from django.utils import timezone

from catalog.models import AccessLevel, Package, PackageAction, Tool, ToolAction
from identity.models import Group, GroupPermission, User, UserGroup
from tenancy.models import Tenant, TenantPackage


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")


class ToolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tool

    key = factory.Sequence(lambda n: f"tool{n}")
    name = factory.Sequence(lambda n: f"Tool {n}")


class ToolActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ToolAction

    tool = factory.SubFactory(ToolFactory)
    key = factory.LazyAttributeSequence(lambda o, n: f"{o.tool.key}.things{n}.read")
    name = factory.Sequence(lambda n: f"Action {n}")
    access_level = AccessLevel.READ


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    key = factory.Sequence(lambda n: f"package-{n}")
    name = factory.Sequence(lambda n: f"Package {n}")


class PackageActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PackageAction

    package = factory.SubFactory(PackageFactory)
    tool_action = factory.SubFactory(ToolActionFactory)


class TenantPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantPackage

    tenant = factory.SubFactory(TenantFactory)
    package = factory.SubFactory(PackageFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=365))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"group-{n}")


class UserGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserGroup

    user = factory.SubFactory(UserFactory)
    group = factory.SubFactory(GroupFactory, tenant=factory.SelfAttribute("..user.tenant"))
    tenant = factory.SelfAttribute("user.tenant")


class GroupPermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupPermission

    group = factory.SubFactory(GroupFactory)
    tenant = factory.SelfAttribute("group.tenant")
    tool_action = factory.SubFactory(ToolActionFactory)
