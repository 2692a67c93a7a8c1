from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Installed only in local and test settings: `manage.py sandbox` and `sandbox_user`."""

    name = "sandbox"
    verbose_name = "Sandbox emulators"
