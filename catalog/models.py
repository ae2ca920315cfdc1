"""The global catalog: tools, their actions (the unit of permission) and packages of actions."""

from django.core.validators import RegexValidator
from django.db import models

from core.db.models import BaseModel, StatusModel, choices_check, status_check
from core.db.naming import unique

__all__ = ["AccessLevel", "ActionScope", "Package", "PackageAction", "Tool", "ToolAction"]

# \A and \Z, not ^ and $: Python's $ also matches before a final newline (the schema shows ^ and $).
TOOL_KEY_VALIDATOR = RegexValidator(r"\A[a-z][a-z0-9_]{1,62}\Z", "Lowercase letters, digits and _.")
ACTION_KEY_VALIDATOR = RegexValidator(
    r"\A[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z", "Dotted lowercase segments, e.g. users.create."
)
PACKAGE_KEY_VALIDATOR = RegexValidator(r"\A[a-z][a-z0-9-]{1,62}\Z", "Lowercase letters, digits and -.")


class AccessLevel(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"


class ActionScope(models.TextChoices):
    TENANT = "tenant", "Tenant"
    PLATFORM = "platform", "Platform"


class Tool(BaseModel, StatusModel):
    key = models.CharField(max_length=63, validators=[TOOL_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # Core tools (the hub itself) are available to every tenant without a package.
    is_core = models.BooleanField(default=False)

    class Meta:
        db_table = "tool"
        ordering = ["key"]
        constraints = [unique("tool", "key"), status_check("tool")]

    def __str__(self):
        return self.key


class ToolAction(BaseModel, StatusModel):
    tool = models.ForeignKey(Tool, on_delete=models.PROTECT, related_name="actions")
    key = models.CharField(max_length=150, validators=[ACTION_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    access_level = models.CharField(max_length=8, choices=AccessLevel.choices)
    scope = models.CharField(max_length=8, choices=ActionScope.choices, default=ActionScope.TENANT)

    class Meta:
        db_table = "tool_action"
        ordering = ["key"]
        constraints = [
            unique("tool_action", "key"),
            status_check("tool_action"),
            choices_check("tool_action", "access_level", AccessLevel),
            choices_check("tool_action", "scope", ActionScope),
        ]

    def __str__(self):
        return self.key


class Package(BaseModel, StatusModel):
    key = models.CharField(max_length=63, validators=[PACKAGE_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    actions = models.ManyToManyField(ToolAction, through="PackageAction", related_name="packages")

    class Meta:
        db_table = "package"
        ordering = ["key"]
        constraints = [unique("package", "key"), status_check("package")]

    def __str__(self):
        return self.key


class PackageAction(BaseModel):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="package_actions")
    tool_action = models.ForeignKey(ToolAction, on_delete=models.PROTECT, related_name="package_actions")

    class Meta:
        db_table = "package_action"
        constraints = [unique("package_action", "package_id", "tool_action_id")]

    def __str__(self):
        return f"{self.package_id}:{self.tool_action_id}"
