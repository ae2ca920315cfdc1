from rest_framework import serializers

from catalog.models import (
    ACTION_KEY_VALIDATOR,
    PACKAGE_KEY_VALIDATOR,
    TOOL_KEY_VALIDATOR,
    AccessLevel,
    ActionScope,
    Package,
    Tool,
    ToolAction,
)


class ActionKeyField(serializers.CharField):
    """A tool_action key as the catalog spells them (users.create): any other string names no action."""

    def __init__(self, **kwargs):
        super().__init__(max_length=150, validators=[ACTION_KEY_VALIDATOR], **kwargs)


class ToolActionSerializer(serializers.ModelSerializer):
    tool = serializers.CharField(source="tool.key", read_only=True)

    class Meta:
        model = ToolAction
        fields = ["id", "key", "tool", "name", "description", "access_level", "scope", "status", "created_at"]
        read_only_fields = fields


class ToolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tool
        fields = ["id", "key", "name", "description", "is_core", "status", "created_at", "updated_at"]
        read_only_fields = fields


class ToolDetailSerializer(ToolSerializer):
    actions = serializers.SerializerMethodField()

    class Meta(ToolSerializer.Meta):
        fields = [*ToolSerializer.Meta.fields, "actions"]
        read_only_fields = fields

    def get_actions(self, tool) -> list[dict]:
        return ToolActionSerializer(self.context["actions"], many=True).data


class PackageSerializer(serializers.ModelSerializer):
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Package
        fields = ["id", "key", "name", "description", "status", "actions", "created_at", "updated_at"]
        read_only_fields = fields

    def get_actions(self, package) -> list[str]:
        return sorted(link.tool_action.key for link in package.package_actions.all())


class ToolCreateSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=63, validators=[TOOL_KEY_VALIDATOR])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    is_core = serializers.BooleanField(required=False, default=False)


class ActionCreateSerializer(serializers.Serializer):
    key = ActionKeyField()
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    access_level = serializers.ChoiceField(choices=AccessLevel.choices)
    scope = serializers.ChoiceField(choices=ActionScope.choices, required=False, default=ActionScope.TENANT)


class PackageCreateSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=63, validators=[PACKAGE_KEY_VALIDATOR])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    actions = serializers.ListField(child=ActionKeyField(), required=False, max_length=500)


class PackageActionsSerializer(serializers.Serializer):
    actions = serializers.ListField(child=ActionKeyField(), min_length=1, max_length=500)
