from rest_framework import serializers

from catalog.models import AccessLevel, ActionScope, Package, Tool, ToolAction


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
    key = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    is_core = serializers.BooleanField(required=False, default=False)


class ActionCreateSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=150)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    access_level = serializers.ChoiceField(choices=AccessLevel.choices)
    scope = serializers.ChoiceField(choices=ActionScope.choices, required=False, default=ActionScope.TENANT)


class PackageCreateSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    actions = serializers.ListField(child=serializers.CharField(max_length=150), required=False, max_length=500)


class PackageActionsSerializer(serializers.Serializer):
    actions = serializers.ListField(child=serializers.CharField(max_length=150), min_length=1, max_length=500)
