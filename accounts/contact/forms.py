"""The contact form; limits match SupportRequest's columns, messages say what to fix."""

from __future__ import annotations

from django import forms

NAME_MAX = 200
EMAIL_MAX = 254
MESSAGE_MAX = 5000

TOO_LONG = "Please keep it to %(limit_value)d characters at most (this has %(show_value)d)."


class ContactForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=NAME_MAX,
        error_messages={"required": "Please tell us your name.", "max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Your email address",
        max_length=EMAIL_MAX,
        help_text="We answer to this address.",
        error_messages={
            "required": "Please give us an email address to answer to.",
            "invalid": "Please enter a valid email address (like you@example.com).",
            "max_length": TOO_LONG,
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    message = forms.CharField(
        label="Your question or comment",
        max_length=MESSAGE_MAX,
        error_messages={
            "required": "Please write your question or comment.",
            "max_length": TOO_LONG,
        },
        widget=forms.Textarea(attrs={"rows": 8}),
    )
