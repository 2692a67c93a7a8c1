"""The connect / callback / disconnect flows for the three providers."""
