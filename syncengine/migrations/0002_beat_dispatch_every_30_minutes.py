"""Celery beat dispatches due users every 30 minutes (SPEC §1); staff edit the interval in
admin (Periodic tasks), and scheduling.base_interval() follows what they set."""

from django.db import migrations

TASK = "relay.dispatch_due_sessions"
NAME = "Relay: start due sync sessions"


def create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=30, period="minutes")
    task_model.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncengine", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
