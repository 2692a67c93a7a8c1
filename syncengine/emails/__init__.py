"""Emails into Salesforce (SPEC §6): mailbox messages → EmailMessage or completed Task."""
