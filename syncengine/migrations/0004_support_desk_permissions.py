"""Let the "Support" group work the support desk: browse sessions, log entries and links,
pause/resume users, and run the support actions (Sync now, Rebuild, Disconnect, held
deletions).

Adds to the group made by accounts/0002_support_group rather than editing that migration,
which databases have already applied. Why each right: docs/support.md.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
PERMISSIONS = [
    ("syncengine", "view_syncsession"),
    ("syncengine", "view_synclogentry"),
    ("syncengine", "view_synclink"),
    ("syncengine", "view_usersyncstate"),
    ("syncengine", "change_usersyncstate"),
    ("syncengine", "run_support_actions"),
]


def _permissions(apps):
    # Permissions are normally created after all migrations (post_migrate); create them now
    # so a fresh database gets the group complete in one `migrate`.
    app_config = apps.get_app_config("syncengine")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in PERMISSIONS
    ]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=SUPPORT_GROUP):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("syncengine", "0003_usersyncstate_problem_notice"),
        ("accounts", "0002_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
