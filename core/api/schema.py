"""The OpenAPI schema names each operation's tool_action (`x-tool-action`), the key a caller needs."""

from drf_spectacular.openapi import AutoSchema

__all__ = ["HubAutoSchema"]


class HubAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        declared = getattr(self.view, "tool_action", None)
        if isinstance(declared, dict):
            declared = declared.get(getattr(self.view, "action", None) or self.method.lower())
        if operation is not None and declared:
            operation["x-tool-action"] = declared
        return operation
