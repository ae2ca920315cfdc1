"""A record of what an idempotent sync changed, so `seed` and `seed --check` tell the same story."""

__all__ = ["ChangeLog", "update_changed", "upsert"]


class ChangeLog:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def upsert(model, *, lookup: dict, values: dict, changes: ChangeLog, label: str, on_create: dict | None = None):
    """Create the row matching `lookup`, or bring its `values` up to date; log what changed.

    `on_create` fields are set only on a new row (names staff may edit afterwards).
    """
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model.objects.create(**lookup, **(on_create or {}), **values)
        changes.add(f"create {label}")
        return instance
    update_changed(instance, values=values, changes=changes, label=label)
    return instance


def update_changed(instance, *, values: dict, changes: ChangeLog, label: str) -> None:
    """Save the `values` that differ on an existing row, and log which ones."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=[*changed, "updated_at"])
        changes.add(f"update {label}: {', '.join(sorted(changed))}")
