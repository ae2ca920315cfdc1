"""The database cache's table (`hub_cache`), so that `migrate` alone prepares a database for the hub.

Created by Django's own `createcachetable` code, which skips a table that exists: installs that
created it before this migration (runhub, the compose file, the test runner) keep theirs. Always
`hub_cache`, whichever cache CACHE_URL selects, so a hub moved from Redis to the database cache
later finds it; and any other database cache table the settings name too.
"""

from django.core.management import call_command
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

# The table settings.py gives the database cache when CACHE_URL is unset.
FALLBACK_CACHE_TABLE = "hub_cache"


def create_cache_tables(apps, schema_editor):
    alias = schema_editor.connection.alias
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(alias, FALLBACK_CACHE_TABLE, dry_run=False)
    call_command("createcachetable", database=alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    # Left in place on the way back: the cache's rows are disposable, and dropping the table under a
    # running hub would fail every request that reads the cache.
    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
