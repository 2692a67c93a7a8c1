"""“Get back to us”: the contact form anyone can send, stored as a SupportRequest."""
